-- Identity numbers at entry: the validators, and what a refused tenant is told.
SELECT v AS uscc, leasemgr.valid_uscc(v) AS valid
  FROM unnest(ARRAY['91350100M000100Y43', '91110108551385082Q', '91350100m000100y43',
                    '91350100M000100Y44', '91350100I000100Y43', '913A0100M000100Y43',
                    '91350100M000100Y4', '', '９１３５０１００Ｍ０００１００Ｙ４３']) AS v;

SELECT v AS cn_id, leasemgr.valid_cn_id(v) AS valid
  FROM unnest(ARRAY['11010519491231002X', '11010519491231002x', '440306200002290017',
                    '110105190002290011', '110105194902310027', '110105189912310027',
                    '110105194912310021', '110105491231002']) AS v;

INSERT INTO leasemgr.region (code, name) VALUES ('EAST', 'East China');
INSERT INTO leasemgr.park (region_id, code, name) SELECT id, 'SZ', 'Suzhou' FROM leasemgr.region;

-- Accepted, normalised.
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', '苏州云图科技有限公司', 'uscc', '91350100m000100y43' FROM leasemgr.park;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'person', '李娜', 'cn_id', '1101 0519 4912 3100 2x' FROM leasemgr.park;
SELECT kind, name, id_type, id_number FROM leasemgr.tenant ORDER BY id;

-- Refused, with the reason.
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', 'Typo Ltd', 'uscc', '91350100M000100Y34' FROM leasemgr.park;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', 'Letter Ltd', 'uscc', '91350100MO00100Y43' FROM leasemgr.park;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'person', '王伟', 'cn_id', '110105194902310027' FROM leasemgr.park;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'person', '王伟', 'cn_id', '110105194912310021' FROM leasemgr.park;
INSERT INTO leasemgr.tenant (park_id, kind, name, id_type, id_number)
SELECT id, 'company', 'No Code Ltd', 'passport', 'E123' FROM leasemgr.park;
