-- Identity numbers are checked at entry against their national standards, with a precise
-- reason, and the validators never fail on any input.
BEGIN;
SELECT plan(41);

-- valid_uscc (GB 32100-2015).
SELECT ok(leasemgr.valid_uscc('91350100M000100Y43'), 'a valid USCC');
SELECT ok(leasemgr.valid_uscc('91110108551385082Q'), 'another valid USCC, letter check character');
SELECT ok(leasemgr.valid_uscc('91350100m000100y43'), 'lower case is accepted');
SELECT ok(NOT leasemgr.valid_uscc('91350100M000100Y44'), 'a wrong check character is rejected');
SELECT ok(NOT leasemgr.valid_uscc('91350100I000100Y43'), 'I is not in the USCC alphabet');
SELECT ok(NOT leasemgr.valid_uscc('91350100M000100Y4'), '17 characters are rejected');
SELECT ok(NOT leasemgr.valid_uscc(''), 'empty is rejected');
SELECT ok(NOT leasemgr.valid_uscc('913501００M000100Y43'), 'full-width digits are rejected');
SELECT is(leasemgr.valid_uscc(NULL), NULL, 'NULL in, NULL out (STRICT)');
SELECT ok(NOT leasemgr.valid_uscc(repeat('9', 100000)), 'a 100,000-character string is simply false');

-- valid_cn_id (GB 11643-1999).
SELECT ok(leasemgr.valid_cn_id('11010519491231002X'), 'a valid ID with X');
SELECT ok(leasemgr.valid_cn_id('11010519491231002x'), 'the final x is case-insensitive');
SELECT ok(leasemgr.valid_cn_id('440306200002290017'), 'born 2000-02-29 (leap year)');
SELECT ok(NOT leasemgr.valid_cn_id('110105190002290011'), '1900-02-29 does not exist');
SELECT ok(NOT leasemgr.valid_cn_id('110105194902310027'), '1949-02-31 does not exist');
SELECT ok(NOT leasemgr.valid_cn_id('110105194912310021'), 'a wrong check digit is rejected');
SELECT ok(NOT leasemgr.valid_cn_id('110105491231002'), 'old 15-digit numbers are rejected');
SELECT ok(NOT leasemgr.valid_cn_id('１１０１０５１９４９１２３１００２Ｘ'), 'full-width characters are rejected');

-- Never an error, whatever the input: random strings with multibyte characters and controls.
SELECT lives_ok($$
  SELECT count(*) FILTER (WHERE leasemgr.valid_uscc(s)) + count(*) FILTER (WHERE leasemgr.valid_cn_id(s))
    FROM (SELECT string_agg(chr(CASE WHEN random() < 0.8 THEN 48 + (random() * 42)::int
                                     ELSE 1 + (random() * 40000)::int END), '') AS s
            FROM generate_series(1, 20000) AS n, generate_series(1, (n % 40)) AS k
           GROUP BY n) AS r
$$, '20,000 random strings, none raises an error');
SELECT results_eq($$
  SELECT p.provolatile, p.proisstrict, p.proparallel FROM pg_proc p
   WHERE p.oid IN ('leasemgr.valid_uscc(text)'::regprocedure, 'leasemgr.valid_cn_id(text)'::regprocedure)$$,
  $$VALUES ('i'::"char", true, 's'::"char"), ('i'::"char", true, 's'::"char")$$,
  'both validators are IMMUTABLE STRICT PARALLEL SAFE');

-- The tenant table: normalised, validated, with a precise refusal.
SELECT th.park('ID') AS park \gset
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
VALUES (:park, 'company', 'Acme', 'uscc', ' 91350100m000100 y43 ');
SELECT is((SELECT id_number FROM leasemgr.tenant WHERE name = 'Acme'), '91350100M000100Y43',
  'a USCC is stored upper-case, without spaces');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'company', 'Bad', 'uscc', '91350100M000100Y44')$$, :park),
  'LM008', 'invalid unified social credit code', 'a wrong USCC check character is LM008');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                                VALUES (%s, 'company', 'Bad', 'uscc', '91350100M000100Y44')$$, :park))).detail,
  'The check character ''4'' of "91350100M000100Y44" does not match its first 17 characters (GB 32100-2015).',
  'the detail says what is wrong');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                                VALUES (%s, 'company', 'Bad', 'uscc', '91350100MO00100Y43')$$, :park))).detail,
  'Character 10 of "91350100MO00100Y43" is ''O'', which is not allowed there: USCC characters are 0-9 and A-Y without I, O, S, V and Z, and characters 3 to 8 (the administrative division) are digits.',
  'a forbidden letter is pointed at');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                                VALUES (%s, 'company', 'Bad', 'uscc', '9135010')$$, :park))).detail,
  'A USCC has 18 characters; "9135010" has 7.', 'a short code is measured');
SELECT isnt((th.error_of(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                                  VALUES (%s, 'company', 'Bad', 'uscc', '9135010')$$, :park))).hint, NULL,
  '... and the refusal has a hint');

INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
VALUES (:park, 'person', 'Li Na', 'cn_id', '11010519491231002x');
SELECT is((SELECT id_number FROM leasemgr.tenant WHERE name = 'Li Na'), '11010519491231002X',
  'an ID number is stored with a capital X');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'person', 'Bad', 'cn_id', '110105194902310027')$$, :park),
  'LM008', 'invalid resident identity number', 'an impossible birth date is LM008');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                                VALUES (%s, 'person', 'Bad', 'cn_id', '110105194902310027')$$, :park))).detail,
  'The birth date 19490231 (characters 7 to 14) of 110105********0027 is not a real calendar date from 1900 on.',
  'the detail masks the number (personal data) but names the date');
SELECT is((th.error_of(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                                VALUES (%s, 'person', 'Bad', 'cn_id', '110105194912310021')$$, :park))).detail,
  'The check character of 110105********0021 does not match its first 17 digits (GB 11643-1999).',
  'a wrong check digit is explained, masked');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'person', 'Unborn', 'cn_id', %L)$$, :park,
                        th.cn_id('110105' || to_char(leasemgr.business_date() + 400, 'YYYYMMDD') || '001')),
  'LM008', NULL, 'a birth date in the future is refused');
SELECT throws_ok(format($$UPDATE leasemgr.tenant SET id_number = '11010519491231002Y' WHERE name = 'Li Na' AND park_id = %s$$, :park),
  'LM008', NULL, 'updates are checked too');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'person', 'Old', 'cn_id', '110105491231002')$$, :park),
  'LM008', NULL, 'old 15-digit numbers are refused');

-- Other documents are stored as given; companies must use a USCC.
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
VALUES (:park, 'person', 'John Smith', 'passport', 'e1234567x');
SELECT is((SELECT id_number FROM leasemgr.tenant WHERE name = 'John Smith'), 'e1234567x', 'a passport number is stored as given');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'company', 'NoCode', 'passport', 'X1')$$, :park),
  'LM008', 'a company tenant is identified by its unified social credit code', 'a company must identify with a USCC');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'person', 'Wrong', 'uscc', '91350100M000100Y43')$$, :park),
  'LM008', NULL, 'a person cannot use a USCC');

-- One record per park and document; the same company may be a tenant in two parks.
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'company', 'Acme again', 'uscc', '91350100M000100Y43')$$, :park),
  '23505', NULL, 'the same USCC twice in one park is refused');
SELECT th.park('ID2') AS park2 \gset
SELECT lives_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                         VALUES (%s, 'company', 'Acme', 'uscc', '91350100M000100Y43')$$, :park2),
  'the same company can be a tenant of another park');
SELECT throws_ok(format($$UPDATE leasemgr.tenant SET park_id = %s WHERE name = 'Li Na'$$, :park2),
  'LM007', NULL, 'a tenant cannot move to another park');

-- Bypassing the trigger does not bypass the rule: the CHECK constraints use the same C check.
SET LOCAL session_replication_role = replica;
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'company', 'Raw', 'uscc', '91350100M000100Y44')$$, :park),
  '23514', NULL, 'without triggers the CHECK constraint still refuses a bad USCC');
SELECT throws_ok(format($$INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
                          VALUES (%s, 'person', 'Raw', 'cn_id', '110105194912310021')$$, :park),
  '23514', NULL, 'without triggers the CHECK constraint still refuses a bad ID number');
RESET session_replication_role;

SELECT * FROM finish();
ROLLBACK;
