-- imdb: the Join Order Benchmark's 21 tables as published (column names and types), so
-- its queries run unchanged; keys and foreign-key indexes after loading.
CREATE TABLE aka_name (id integer NOT NULL, person_id integer NOT NULL, name text NOT NULL,
    imdb_index character varying(12), name_pcode_cf character varying(5),
    name_pcode_nf character varying(5), surname_pcode character varying(5),
    md5sum character varying(32));
CREATE TABLE aka_title (id integer NOT NULL, movie_id integer NOT NULL, title text NOT NULL,
    imdb_index character varying(12), kind_id integer NOT NULL, production_year integer,
    phonetic_code character varying(5), episode_of_id integer, season_nr integer,
    episode_nr integer, note text, md5sum character varying(32));
CREATE TABLE cast_info (id integer NOT NULL, person_id integer NOT NULL, movie_id integer NOT NULL,
    person_role_id integer, note text, nr_order integer, role_id integer NOT NULL);
CREATE TABLE char_name (id integer NOT NULL, name text NOT NULL, imdb_index character varying(12),
    imdb_id integer, name_pcode_nf character varying(5), surname_pcode character varying(5),
    md5sum character varying(32));
CREATE TABLE comp_cast_type (id integer NOT NULL, kind character varying(32) NOT NULL);
CREATE TABLE company_name (id integer NOT NULL, name text NOT NULL,
    country_code character varying(255), imdb_id integer, name_pcode_nf character varying(5),
    name_pcode_sf character varying(5), md5sum character varying(32));
CREATE TABLE company_type (id integer NOT NULL, kind character varying(32) NOT NULL);
CREATE TABLE complete_cast (id integer NOT NULL, movie_id integer, subject_id integer NOT NULL,
    status_id integer NOT NULL);
CREATE TABLE info_type (id integer NOT NULL, info character varying(32) NOT NULL);
CREATE TABLE keyword (id integer NOT NULL, keyword text NOT NULL, phonetic_code character varying(5));
CREATE TABLE kind_type (id integer NOT NULL, kind character varying(15) NOT NULL);
CREATE TABLE link_type (id integer NOT NULL, link character varying(32) NOT NULL);
CREATE TABLE movie_companies (id integer NOT NULL, movie_id integer NOT NULL, company_id integer NOT NULL,
    company_type_id integer NOT NULL, note text);
CREATE TABLE movie_info (id integer NOT NULL, movie_id integer NOT NULL, info_type_id integer NOT NULL,
    info text NOT NULL, note text);
CREATE TABLE movie_info_idx (id integer NOT NULL, movie_id integer NOT NULL,
    info_type_id integer NOT NULL, info text NOT NULL, note text);
CREATE TABLE movie_keyword (id integer NOT NULL, movie_id integer NOT NULL, keyword_id integer NOT NULL);
CREATE TABLE movie_link (id integer NOT NULL, movie_id integer NOT NULL, linked_movie_id integer NOT NULL,
    link_type_id integer NOT NULL);
CREATE TABLE name (id integer NOT NULL, name text NOT NULL, imdb_index character varying(12),
    imdb_id integer, gender character varying(1), name_pcode_cf character varying(5),
    name_pcode_nf character varying(5), surname_pcode character varying(5),
    md5sum character varying(32));
CREATE TABLE person_info (id integer NOT NULL, person_id integer NOT NULL, info_type_id integer NOT NULL,
    info text NOT NULL, note text);
CREATE TABLE role_type (id integer NOT NULL, role character varying(32) NOT NULL);
CREATE TABLE title (id integer NOT NULL, title text NOT NULL, imdb_index character varying(12),
    kind_id integer NOT NULL, production_year integer, imdb_id integer,
    phonetic_code character varying(5), episode_of_id integer, season_nr integer,
    episode_nr integer, series_years character varying(49), md5sum character varying(32));

-- the dimension vocabularies, as IMDb has them
INSERT INTO kind_type VALUES (1,'movie'),(2,'tv series'),(3,'tv movie'),(4,'video movie'),
    (5,'tv mini series'),(6,'video game'),(7,'episode');
INSERT INTO company_type VALUES (1,'distributors'),(2,'production companies'),
    (3,'special effects companies'),(4,'miscellaneous companies');
INSERT INTO comp_cast_type VALUES (1,'cast'),(2,'crew'),(3,'complete'),(4,'complete+verified');
INSERT INTO role_type VALUES (1,'actor'),(2,'actress'),(3,'producer'),(4,'writer'),
    (5,'cinematographer'),(6,'composer'),(7,'costume designer'),(8,'director'),(9,'editor'),
    (10,'miscellaneous crew'),(11,'production designer'),(12,'guest');
INSERT INTO link_type VALUES (1,'follows'),(2,'followed by'),(3,'remake of'),(4,'remade as'),
    (5,'references'),(6,'referenced in'),(7,'spoofs'),(8,'spoofed in'),(9,'features'),
    (10,'featured in'),(11,'spin off from'),(12,'spin off'),(13,'version of'),(14,'similar to'),
    (15,'edited into'),(16,'edited from'),(17,'alternate language version of'),(18,'unknown link');
-- info_type: the names JOB's queries use at the ids IMDb gives them; the others numbered on
INSERT INTO info_type VALUES (1,'runtimes'),(2,'color info'),(3,'genres'),(4,'languages'),
    (5,'certificates'),(6,'sound mix'),(7,'tech info'),(8,'countries'),(9,'taglines'),
    (10,'keywords'),(11,'alternate versions'),(12,'crazy credits'),(13,'goofs'),(14,'soundtrack'),
    (15,'quotes'),(16,'release dates'),(17,'trivia'),(18,'locations'),(19,'mini biography'),
    (20,'birth notes'),(21,'birth date'),(22,'height'),(23,'death date'),(24,'spouse'),
    (25,'other works'),(26,'birth name'),(27,'salary history'),(28,'nick names'),(29,'books'),
    (30,'agent address'),(31,'biographical movies'),(32,'portrayed in'),(33,'where now'),
    (34,'trade mark'),(35,'interviews'),(36,'article'),(37,'magazine cover photo'),
    (38,'pictorial'),(39,'death notes'),(40,'LD disc format'),(98,'plot'),
    (99,'votes distribution'),(100,'votes'),(101,'rating'),(102,'production dates'),
    (103,'copyright holder'),(104,'filming dates'),(105,'budget'),(106,'weekend gross'),
    (107,'gross'),(108,'opening weekend'),(109,'rentals'),(110,'admissions'),(111,'studios'),
    (112,'top 250 rank'),(113,'bottom 10 rank');

-- the application on top: users, their ratings and watchlists, per-title rating figures,
-- and full-text search on titles (JOB's tables stay as published)
CREATE TABLE imdb_users (id bigint NOT NULL, name text NOT NULL, joined_at timestamptz NOT NULL);
CREATE TABLE user_ratings (user_id bigint NOT NULL, movie_id integer NOT NULL, rating int NOT NULL,
    rated_at timestamptz NOT NULL, PRIMARY KEY (user_id, movie_id));
CREATE TABLE watchlists (user_id bigint NOT NULL, movie_id integer NOT NULL,
    added_at timestamptz NOT NULL, PRIMARY KEY (user_id, movie_id));
CREATE TABLE title_stats (movie_id integer PRIMARY KEY, ratings bigint NOT NULL DEFAULT 0,
    rating_sum bigint NOT NULL DEFAULT 0);
CREATE TABLE title_search (movie_id integer PRIMARY KEY, doc tsvector NOT NULL);
CREATE SEQUENCE imdb_run_ids START 100000000;
