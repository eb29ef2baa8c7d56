/*
 * lm_contract_states.h
 *     The contract state machine as data: states, events and the transitions between them.
 *
 * Pure C. The trigger (src/contract_fsm.c), contract_transition() and
 * contract_state_machine() all read this one table, so the rules cannot drift apart.
 */
#ifndef LM_CONTRACT_STATES_H
#define LM_CONTRACT_STATES_H

#include <stdbool.h>

typedef enum LmContractState
{
	LM_CS_DRAFT = 0,
	LM_CS_PENDING_APPROVAL,
	LM_CS_APPROVED,
	LM_CS_SIGNED,
	LM_CS_ACTIVE,
	LM_CS_AMENDING,
	LM_CS_EXPIRED,
	LM_CS_TERMINATED,
	LM_CS_MOVING_OUT,
	LM_CS_CLOSED,
	LM_CS_CANCELLED,
	LM_CS__COUNT
} LmContractState;

typedef enum LmContractEvent
{
	LM_CE_SUBMIT = 0,
	LM_CE_REJECT,
	LM_CE_APPROVE,
	LM_CE_SIGN,
	LM_CE_ACTIVATE,
	LM_CE_EXPIRE,
	LM_CE_TERMINATE,
	LM_CE_START_MOVE_OUT,
	LM_CE_CLOSE,
	LM_CE_CANCEL,
	LM_CE_AMEND,
	LM_CE_RESUME,
	LM_CE_RENEWED,
	LM_CE__COUNT
} LmContractEvent;

typedef struct LmTransition
{
	LmContractState from;
	LmContractEvent event;
	LmContractState to;
	const char *guard;			/* the guard in words, for docs and errors */
} LmTransition;

extern const LmTransition lm_transitions[];
extern const int lm_transition_count;

extern const char *lm_state_name(LmContractState s);
extern const char *lm_event_name(LmContractEvent e);

/* Name lookups; -1 when the name is unknown. Exact, lower-case names. */
extern int	lm_state_from_name(const char *name);
extern int	lm_event_from_name(const char *name);

/* The state an event leads to from a state, or -1 when the state does not allow it. */
extern int	lm_next_state(LmContractState from, LmContractEvent event);

/* The event that moves from one state to another, or -1 when no transition does. */
extern int	lm_event_between(LmContractState from, LmContractState to);

/* Live states hold their units: pending_approval through moving_out. */
extern bool lm_state_is_live(LmContractState s);

/* closed and cancelled: nothing about the contract changes any more. */
extern bool lm_state_is_final(LmContractState s);

/*
 * Writes the events allowed from a state, comma separated, into buf (always
 * NUL-terminated); "none" when there are none. Returns buf.
 */
extern char *lm_allowed_events(LmContractState from, char *buf, int bufsize);

#endif							/* LM_CONTRACT_STATES_H */
