-- leasemgr.actor names the person; only trusted roles may assert it, otherwise the login is
-- the person, so nobody can approve their own submission by claiming another name.
BEGIN;
SELECT plan(8);

SELECT is(leasemgr.current_actor(), session_user::text, 'without the setting the session user acts');
SET LOCAL leasemgr.actor = 'li.na';
SELECT is(leasemgr.current_actor(), 'li.na', 'with it, the named person acts');
RESET leasemgr.actor;

CREATE ROLE lm_t_human LOGIN IN ROLE leasemgr_operator;
CREATE ROLE lm_t_app LOGIN IN ROLE leasemgr_operator;
GRANT SET ON PARAMETER leasemgr.actor TO lm_t_app;

SET ROLE lm_t_human;
SELECT throws_ok('SET leasemgr.actor = ''wang.wei''', '42501', NULL,
  'a role without the grant cannot claim to be someone else');
RESET ROLE;
SET ROLE lm_t_app;
SELECT lives_ok('SET LOCAL leasemgr.actor = ''wang.wei''', 'an application login granted SET on leasemgr.actor can');
SELECT is(leasemgr.current_actor(), 'wang.wei', '... and acts for that person');
RESET ROLE;
RESET leasemgr.actor;

SELECT throws_ok('SET leasemgr.actor = E''li\nna''', '22023', NULL, 'control characters are refused');
SELECT throws_ok(format('SET leasemgr.actor = %L', repeat('x', 201)), '22023', NULL, 'more than 200 bytes are refused');
SELECT throws_ok('SET leasemgr.acter = ''typo''', '42602', NULL, 'a misspelt leasemgr setting is refused (prefix reserved)');

SELECT * FROM finish();
ROLLBACK;
