/*
 * test_contract_states.c: the state machine table of src/core is the one DESIGN.md draws.
 */
#include <string.h>

#include "lm_contract_states.h"
#include "tap.h"

static int
next(const char *from, const char *event)
{
	return lm_next_state((LmContractState) lm_state_from_name(from),
						 (LmContractEvent) lm_event_from_name(event));
}

static void
expect(const char *from, const char *event, const char *to)
{
	int			n = next(from, event);

	ok(n >= 0 && strcmp(lm_state_name((LmContractState) n), to) == 0,
	   "%s --%s--> %s", from, event, to);
}

int
main(void)
{
	char		buf[256];
	int			s,
				t,
				pairs = 0,
				ambiguous = 0;

	expect("draft", "submit", "pending_approval");
	expect("pending_approval", "reject", "draft");
	expect("pending_approval", "approve", "approved");
	expect("approved", "sign", "signed");
	expect("signed", "activate", "active");
	expect("active", "expire", "expired");
	expect("active", "terminate", "terminated");
	expect("expired", "start_move_out", "moving_out");
	expect("terminated", "start_move_out", "moving_out");
	expect("moving_out", "close", "closed");
	expect("draft", "cancel", "cancelled");
	expect("pending_approval", "cancel", "cancelled");
	expect("approved", "cancel", "cancelled");
	expect("signed", "cancel", "cancelled");
	expect("active", "amend", "amending");
	expect("amending", "resume", "active");
	expect("expired", "renewed", "closed");
	ok(lm_transition_count == 17, "17 transitions");

	ok(next("active", "cancel") < 0, "an active contract cannot be cancelled");
	ok(next("amending", "expire") < 0 && next("amending", "terminate") < 0,
	   "an amending contract neither expires nor terminates until its amendment is decided");
	ok(next("closed", "submit") < 0 && next("cancelled", "submit") < 0, "final states have no exits");
	ok(next("draft", "approve") < 0, "a draft cannot be approved without being submitted");
	ok(lm_event_from_name("Submit") < 0, "event names are exact");
	ok(lm_state_from_name("") < 0, "empty state name is unknown");

	/* A direct UPDATE names only the target state: each (from, to) pair must mean one event. */
	for (s = 0; s < LM_CS__COUNT; s++)
		for (t = 0; t < LM_CS__COUNT; t++)
		{
			int			e,
						n = 0;

			for (e = 0; e < LM_CE__COUNT; e++)
				if (lm_next_state((LmContractState) s, (LmContractEvent) e) == t)
					n++;
			pairs += n > 0;
			ambiguous += n > 1;
		}
	ok(ambiguous == 0 && pairs == 17, "every (from, to) pair has at most one event (%d pairs)", pairs);

	ok(lm_state_is_live(LM_CS_PENDING_APPROVAL) && lm_state_is_live(LM_CS_MOVING_OUT) &&
	   lm_state_is_live(LM_CS_AMENDING) && lm_state_is_live(LM_CS_TERMINATED),
	   "pending_approval through moving_out hold their units");
	ok(!lm_state_is_live(LM_CS_DRAFT) && !lm_state_is_live(LM_CS_CLOSED) &&
	   !lm_state_is_live(LM_CS_CANCELLED), "draft, closed, cancelled hold nothing");

	ok(strcmp(lm_allowed_events(LM_CS_SIGNED, buf, sizeof(buf)), "activate, cancel") == 0,
	   "allowed from signed: %s", buf);
	ok(strcmp(lm_allowed_events(LM_CS_CLOSED, buf, sizeof(buf)), "none") == 0,
	   "allowed from closed: %s", buf);
	ok(strlen(lm_allowed_events(LM_CS_DRAFT, buf, 8)) < 8, "allowed-events list truncates safely");
	return done_testing();
}
