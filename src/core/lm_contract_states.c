/*
 * lm_contract_states.c
 *     The contract state machine of DESIGN.md as one table.
 *
 * Guards that need the database (units on the contract, the acting person, today's date)
 * are enforced by the trigger; the guard strings here describe them for people.
 */
#include "lm_contract_states.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[LM_CS__COUNT] = {
	"draft", "pending_approval", "approved", "signed", "active", "amending",
	"expired", "terminated", "moving_out", "closed", "cancelled"
};

static const char *const event_names[LM_CE__COUNT] = {
	"submit", "reject", "approve", "sign", "activate", "expire", "terminate",
	"start_move_out", "close", "cancel", "amend", "resume", "renewed"
};

const LmTransition lm_transitions[] = {
	{LM_CS_DRAFT, LM_CE_SUBMIT, LM_CS_PENDING_APPROVAL,
	"at least one unit; end_date >= start_date; every unit free for the lease dates"},
	{LM_CS_PENDING_APPROVAL, LM_CE_REJECT, LM_CS_DRAFT, "none"},
	{LM_CS_PENDING_APPROVAL, LM_CE_APPROVE, LM_CS_APPROVED,
	"approver differs from the person who submitted (four-eyes)"},
	{LM_CS_APPROVED, LM_CE_SIGN, LM_CS_SIGNED,
	"document_sha256 is set (64 hex characters); signed_at not in the future"},
	{LM_CS_SIGNED, LM_CE_ACTIVATE, LM_CS_ACTIVE, "today >= start_date"},
	{LM_CS_ACTIVE, LM_CE_EXPIRE, LM_CS_EXPIRED, "today > end_date"},
	{LM_CS_ACTIVE, LM_CE_TERMINATE, LM_CS_TERMINATED,
	"terminated_on is set and within start_date..end_date"},
	{LM_CS_EXPIRED, LM_CE_START_MOVE_OUT, LM_CS_MOVING_OUT,
	"a final reading (photo or IoT) on or after the last day for every meter of the units"},
	{LM_CS_TERMINATED, LM_CE_START_MOVE_OUT, LM_CS_MOVING_OUT,
	"a final reading (photo or IoT) on or after the last day for every meter of the units"},
	{LM_CS_MOVING_OUT, LM_CE_CLOSE, LM_CS_CLOSED,
	"final bill issued (every charge and shared cost billed through the last day), nothing unpaid, deposit settled"},
	{LM_CS_EXPIRED, LM_CE_RENEWED, LM_CS_CLOSED,
	"its renewal is active and took over its balance and deposit (no move-out)"},
	{LM_CS_DRAFT, LM_CE_CANCEL, LM_CS_CANCELLED, "none"},
	{LM_CS_PENDING_APPROVAL, LM_CE_CANCEL, LM_CS_CANCELLED, "none"},
	{LM_CS_APPROVED, LM_CE_CANCEL, LM_CS_CANCELLED, "none"},
	{LM_CS_SIGNED, LM_CE_CANCEL, LM_CS_CANCELLED, "none"},
	{LM_CS_ACTIVE, LM_CE_AMEND, LM_CS_AMENDING,
	"an open amendment of the contract (leasemgr.amendment_open does both)"},
	{LM_CS_AMENDING, LM_CE_RESUME, LM_CS_ACTIVE,
	"no open amendment left (leasemgr.amendment_approve or amendment_withdraw does both)"},
};

const int	lm_transition_count = (int) (sizeof(lm_transitions) / sizeof(lm_transitions[0]));

const char *
lm_state_name(LmContractState s)
{
	return (s >= 0 && s < LM_CS__COUNT) ? state_names[s] : "?";
}

const char *
lm_event_name(LmContractEvent e)
{
	return (e >= 0 && e < LM_CE__COUNT) ? event_names[e] : "?";
}

int
lm_state_from_name(const char *name)
{
	int			i;

	for (i = 0; i < LM_CS__COUNT; i++)
	{
		if (strcmp(state_names[i], name) == 0)
			return i;
	}
	return -1;
}

int
lm_event_from_name(const char *name)
{
	int			i;

	for (i = 0; i < LM_CE__COUNT; i++)
	{
		if (strcmp(event_names[i], name) == 0)
			return i;
	}
	return -1;
}

int
lm_next_state(LmContractState from, LmContractEvent event)
{
	int			i;

	for (i = 0; i < lm_transition_count; i++)
	{
		if (lm_transitions[i].from == from && lm_transitions[i].event == event)
			return lm_transitions[i].to;
	}
	return -1;
}

int
lm_event_between(LmContractState from, LmContractState to)
{
	int			i;

	for (i = 0; i < lm_transition_count; i++)
	{
		if (lm_transitions[i].from == from && lm_transitions[i].to == to)
			return lm_transitions[i].event;
	}
	return -1;
}

bool
lm_state_is_live(LmContractState s)
{
	return s >= LM_CS_PENDING_APPROVAL && s <= LM_CS_MOVING_OUT;
}

bool
lm_state_is_final(LmContractState s)
{
	return s == LM_CS_CLOSED || s == LM_CS_CANCELLED;
}

char *
lm_allowed_events(LmContractState from, char *buf, int bufsize)
{
	int			used = 0;
	int			i;

	if (bufsize <= 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < lm_transition_count && used < bufsize; i++)
	{
		if (lm_transitions[i].from != from)
			continue;
		used += snprintf(buf + used, (size_t) (bufsize - used), "%s%s",
						 used > 0 ? ", " : "", event_names[lm_transitions[i].event]);
	}
	if (buf[0] == '\0')
		snprintf(buf, (size_t) bufsize, "none");
	return buf;
}
