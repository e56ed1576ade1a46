-- keys and the Join Order Benchmark's foreign-key indexes
ALTER TABLE aka_name ADD PRIMARY KEY (id);
ALTER TABLE aka_title ADD PRIMARY KEY (id);
ALTER TABLE cast_info ADD PRIMARY KEY (id);
ALTER TABLE char_name ADD PRIMARY KEY (id);
ALTER TABLE comp_cast_type ADD PRIMARY KEY (id);
ALTER TABLE company_name ADD PRIMARY KEY (id);
ALTER TABLE company_type ADD PRIMARY KEY (id);
ALTER TABLE complete_cast ADD PRIMARY KEY (id);
ALTER TABLE info_type ADD PRIMARY KEY (id);
ALTER TABLE keyword ADD PRIMARY KEY (id);
ALTER TABLE kind_type ADD PRIMARY KEY (id);
ALTER TABLE link_type ADD PRIMARY KEY (id);
ALTER TABLE movie_companies ADD PRIMARY KEY (id);
ALTER TABLE movie_info ADD PRIMARY KEY (id);
ALTER TABLE movie_info_idx ADD PRIMARY KEY (id);
ALTER TABLE movie_keyword ADD PRIMARY KEY (id);
ALTER TABLE movie_link ADD PRIMARY KEY (id);
ALTER TABLE name ADD PRIMARY KEY (id);
ALTER TABLE person_info ADD PRIMARY KEY (id);
ALTER TABLE role_type ADD PRIMARY KEY (id);
ALTER TABLE title ADD PRIMARY KEY (id);
ALTER TABLE imdb_users ADD PRIMARY KEY (id);
CREATE INDEX company_id_movie_companies ON movie_companies (company_id);
CREATE INDEX company_type_id_movie_companies ON movie_companies (company_type_id);
CREATE INDEX info_type_id_movie_info_idx ON movie_info_idx (info_type_id);
CREATE INDEX info_type_id_movie_info ON movie_info (info_type_id);
CREATE INDEX info_type_id_person_info ON person_info (info_type_id);
CREATE INDEX keyword_id_movie_keyword ON movie_keyword (keyword_id);
CREATE INDEX kind_id_aka_title ON aka_title (kind_id);
CREATE INDEX kind_id_title ON title (kind_id);
CREATE INDEX linked_movie_id_movie_link ON movie_link (linked_movie_id);
CREATE INDEX link_type_id_movie_link ON movie_link (link_type_id);
CREATE INDEX movie_id_aka_title ON aka_title (movie_id);
CREATE INDEX movie_id_cast_info ON cast_info (movie_id);
CREATE INDEX movie_id_complete_cast ON complete_cast (movie_id);
CREATE INDEX movie_id_movie_companies ON movie_companies (movie_id);
CREATE INDEX movie_id_movie_info_idx ON movie_info_idx (movie_id);
CREATE INDEX movie_id_movie_keyword ON movie_keyword (movie_id);
CREATE INDEX movie_id_movie_link ON movie_link (movie_id);
CREATE INDEX movie_id_movie_info ON movie_info (movie_id);
CREATE INDEX person_id_aka_name ON aka_name (person_id);
CREATE INDEX person_id_cast_info ON cast_info (person_id);
CREATE INDEX person_id_person_info ON person_info (person_id);
CREATE INDEX person_role_id_cast_info ON cast_info (person_role_id);
CREATE INDEX role_id_cast_info ON cast_info (role_id);
-- the keywords JOB's templates name, on the most used keyword rows
UPDATE keyword k SET keyword = p.kw
FROM (SELECT keyword_id, row_number() OVER (ORDER BY count(*) DESC, keyword_id) AS rn
      FROM movie_keyword GROUP BY keyword_id) h
JOIN (VALUES (1, 'character-name-in-title'), (2, 'sequel'), (3, 'based-on-novel'),
             (4, 'murder'), (5, 'superhero'), (6, 'violence'), (7, 'female-name-in-title'),
             (8, 'blood'), (9, 'marvel-comics'), (10, 'based-on-comic'), (11, 'revenge'),
             (12, 'second-part'), (13, 'hospital'), (14, 'computer-animation'), (15, 'fight'),
             (16, 'hero'), (17, 'love'), (18, 'death'), (19, 'friendship'), (20, '10,000-mile-club'),
             (21, 'murder-in-title'), (22, 'gore'), (23, 'female-nudity'), (24, 'tv-special'),
             (25, 'marvel-cinematic-universe'), (26, 'martial-arts'), (27, 'hand-to-hand-combat'),
             (28, 'computer-animated-movie'), (29, 'magnet'), (30, 'web'), (31, 'claw'),
             (32, 'laser'), (33, 'nerd'), (34, 'loner'), (35, 'alienation'), (36, 'dignity')) p(rn, kw)
  ON p.rn = h.rn
WHERE k.id = h.keyword_id;
-- planted entities: the busiest companies and the most cast people under names the
-- named-entity templates look for
UPDATE company_name c SET name = p.name, country_code = p.cc
FROM (SELECT company_id, row_number() OVER (ORDER BY count(*) DESC, company_id) AS rn
      FROM movie_companies GROUP BY company_id) h
JOIN (VALUES (1, 'Warner Bros.', '[us]'), (2, 'Metro-Goldwyn-Mayer (MGM)', '[us]'),
             (3, 'Universal Pictures', '[us]'), (4, 'Paramount Pictures', '[us]'),
             (5, 'Twentieth Century Fox Film Corporation', '[us]'), (6, 'Columbia Pictures', '[us]'),
             (7, 'Constantin Film', '[de]'), (8, 'Bavaria Film', '[de]'), (9, 'Toho Company', '[jp]'),
             (10, 'DreamWorks Animation', '[us]'), (11, 'Lionsgate', '[us]'), (12, 'YouTube', '[us]'),
             (13, 'Twentieth Century Fox Home Entertainment', '[us]'),
             (14, '20th Century Fox Television', '[us]'), (15, 'Warner Home Video', '[us]'),
             (16, 'Mosfilm', '[ru]'), (17, 'Film i Väst', '[se]'), (18, 'Filmfabriek', '[nl]')) p(rn, name, cc)
  ON p.rn = h.rn
WHERE c.id = h.company_id;
UPDATE name n SET name = p.name
FROM (SELECT person_id, row_number() OVER (ORDER BY count(*) DESC, person_id) AS rn
      FROM cast_info GROUP BY person_id) h
JOIN (VALUES (1, 'Downey Jr., Robert'), (2, 'Tiger, Tommy'), (3, 'Angel, Anna'),
             (4, 'Bert, Bill'), (5, 'Yo, Yuri'), (6, 'Burton, Tim'), (7, 'Zane, Billy'),
             (8, 'Xu, Ang')) p(rn, name)
  ON p.rn = h.rn
WHERE n.id = h.person_id;
-- characters the templates look for, on the most played roles
UPDATE char_name c SET name = p.name
FROM (SELECT person_role_id, row_number() OVER (ORDER BY count(*) DESC, person_role_id) AS rn
      FROM cast_info WHERE person_role_id IS NOT NULL GROUP BY person_role_id) h
JOIN (VALUES (1, 'Tony Stark'), (2, 'Iron Man'), (3, 'Queen'), (4, 'Sherlock Holmes'),
             (5, 'Spider-Man'), (6, 'Batman'), (7, 'Himself'), (8, 'Superman')) p(rn, name)
  ON p.rn = h.rn
WHERE c.id = h.person_role_id;
-- titles the templates look for, on the titles with the largest casts: movies of the
-- 2000s
UPDATE title t SET title = p.title, kind_id = 1, production_year = 2003 + p.rn % 10
FROM (SELECT movie_id, row_number() OVER (ORDER BY count(*) DESC, movie_id) AS rn
      FROM cast_info GROUP BY movie_id) h
JOIN (VALUES (1, 'Shrek 2'), (2, 'Kung Fu Panda'), (3, 'Saw II'), (4, 'Freddy vs. Jason'),
             (5, 'Kung Fu Panda 2'), (6, 'One Piece: Episode of Alabasta'),
             (7, 'Dragon Ball Z: Battle of Gods'), (8, 'Vampire Academy'), (9, 'Champion'),
             (10, 'Loser'), (11, 'Birdemic: Shock and Terror'), (12, 'Money Train'),
             (13, 'Murder on the Orient Express'), (14, 'Mord im Pfarrhaus'),
             (15, 'The Movie Murder'), (16, 'Iron Man'), (17, 'Saw III'), (18, 'Jason X')) p(rn, title)
  ON p.rn = h.rn
WHERE t.id = h.movie_id;
