DROP TABLE IF EXISTS aka_name, aka_title, cast_info, char_name, comp_cast_type, company_name,
    company_type, complete_cast, info_type, keyword, kind_type, link_type, movie_companies,
    movie_info, movie_info_idx, movie_keyword, movie_link, name, person_info, role_type, title,
    imdb_users, user_ratings, watchlists, title_stats, title_search;
DROP SEQUENCE IF EXISTS imdb_run_ids;
