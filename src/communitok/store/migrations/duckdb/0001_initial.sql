-- communitok schema v1 (generated from communitok.core.schema, then frozen)

CREATE TABLE creators (
    creator_id VARCHAR NOT NULL,
    display_name VARCHAR,
    bio VARCHAR,
    region VARCHAR,
    verified BOOLEAN,
    follower_count BIGINT,
    following_count BIGINT,
    likes_count BIGINT,
    video_count BIGINT,
    created_at TIMESTAMPTZ,
    source VARCHAR,
    PRIMARY KEY (creator_id)
);

CREATE TABLE viewers (
    viewer_id VARCHAR NOT NULL,
    region VARCHAR,
    language VARCHAR,
    registered_at TIMESTAMPTZ,
    activity VARCHAR,
    interests VARCHAR[],
    source VARCHAR,
    PRIMARY KEY (viewer_id)
);

CREATE TABLE hashtags (
    name VARCHAR NOT NULL,
    hashtag_id VARCHAR,
    title VARCHAR,
    source VARCHAR,
    PRIMARY KEY (name)
);

CREATE TABLE sounds (
    sound_id VARCHAR NOT NULL,
    title VARCHAR,
    author VARCHAR,
    is_original BOOLEAN,
    duration_s DOUBLE,
    source VARCHAR,
    PRIMARY KEY (sound_id)
);

CREATE TABLE effects (
    effect_id VARCHAR NOT NULL,
    name VARCHAR,
    source VARCHAR,
    PRIMARY KEY (effect_id)
);

CREATE TABLE videos (
    video_id VARCHAR NOT NULL,
    creator_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    duration_s DOUBLE,
    description VARCHAR,
    hashtags VARCHAR[],
    sound_id VARCHAR,
    effect_ids VARCHAR[],
    mentions VARCHAR[],
    region VARCHAR,
    view_count BIGINT,
    like_count BIGINT,
    comment_count BIGINT,
    share_count BIGINT,
    favourite_count BIGINT,
    transcript VARCHAR,
    categories VARCHAR[],
    source VARCHAR,
    PRIMARY KEY (video_id)
);

CREATE TABLE cocreation_links (
    child_video_id VARCHAR NOT NULL,
    parent_video_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('duet', 'stitch', 'sound_reuse', 'effect_reuse')),
    created_at TIMESTAMPTZ,
    source VARCHAR,
    PRIMARY KEY (child_video_id, parent_video_id, kind)
);

CREATE TABLE comments (
    comment_id VARCHAR NOT NULL,
    video_id VARCHAR NOT NULL,
    user_id VARCHAR,
    parent_comment_id VARCHAR,
    text VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    like_count BIGINT,
    reply_count BIGINT,
    source VARCHAR,
    PRIMARY KEY (comment_id)
);

CREATE TABLE follows (
    follower_id VARCHAR NOT NULL,
    followee_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    source VARCHAR,
    PRIMARY KEY (follower_id, followee_id)
);

CREATE TABLE events (
    viewer_id VARCHAR NOT NULL,
    video_id VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    watch_time_s DOUBLE,
    completed BOOLEAN,
    liked BOOLEAN,
    shared BOOLEAN,
    commented BOOLEAN,
    followed BOOLEAN,
    skipped BOOLEAN,
    not_interested BOOLEAN,
    source VARCHAR
);

CREATE TABLE ingest_batches (
    batch_id VARCHAR PRIMARY KEY,
    table_name VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    params VARCHAR,
    seed BIGINT,
    input_fingerprint VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    summary VARCHAR
);

CREATE TABLE results_index (
    name VARCHAR PRIMARY KEY,
    run_id VARCHAR,
    rows BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
