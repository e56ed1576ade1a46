-- Correlations across tables that JOB's queries rely on, set after the keywords and
-- companies are planted (the generator draws each table on its own).

-- A title whose lead company (its first company row) is German is German: 9 in 10 of
-- its country rows say 'Germany' and of its language rows 'German'. (Every company of a
-- hot title would make most of the busiest titles German: they have dozens.)
UPDATE movie_info mi SET info = CASE mi.info_type_id WHEN 8 THEN 'Germany' ELSE 'German' END
FROM (SELECT DISTINCT ON (mc.movie_id) mc.movie_id, cn.country_code
      FROM movie_companies mc JOIN company_name cn ON cn.id = mc.company_id
      ORDER BY mc.movie_id, mc.id) de
WHERE de.country_code = '[de]' AND mi.movie_id = de.movie_id AND mi.info_type_id IN (4, 8) AND mi.id % 10 <> 0;

-- A title that 'follows' another is a sequel: it carries the keyword 'sequel', and the
-- title it follows was made before it.
INSERT INTO movie_keyword (id, movie_id, keyword_id)
SELECT (SELECT max(id) FROM movie_keyword) + row_number() OVER (ORDER BY l.movie_id), l.movie_id, k.id
FROM (SELECT DISTINCT movie_id FROM movie_link WHERE link_type_id = 1) l
JOIN keyword k ON k.keyword = 'sequel'
WHERE NOT EXISTS (SELECT 1 FROM movie_keyword mk WHERE mk.movie_id = l.movie_id AND mk.keyword_id = k.id);
UPDATE title t SET production_year = s.production_year - 1 - (l.id % 4)
FROM movie_link l JOIN title s ON s.id = l.movie_id
WHERE l.link_type_id = 1 AND t.id = l.linked_movie_id AND t.id <> s.id
  AND s.production_year IS NOT NULL AND s.production_year > 1885;
