-- communitok schema v1 (generated from communitok.core.schema, then frozen)

CREATE TABLE creators (
    creator_id TEXT NOT NULL,
    display_name TEXT,
    bio TEXT,
    region TEXT,
    verified BOOLEAN,
    follower_count BIGINT,
    following_count BIGINT,
    likes_count BIGINT,
    video_count BIGINT,
    created_at TIMESTAMPTZ,
    source TEXT,
    PRIMARY KEY (creator_id)
);

CREATE TABLE viewers (
    viewer_id TEXT NOT NULL,
    region TEXT,
    language TEXT,
    registered_at TIMESTAMPTZ,
    activity TEXT,
    interests TEXT[],
    source TEXT,
    PRIMARY KEY (viewer_id)
);

CREATE TABLE hashtags (
    name TEXT NOT NULL,
    hashtag_id TEXT,
    title TEXT,
    source TEXT,
    PRIMARY KEY (name)
);

CREATE TABLE sounds (
    sound_id TEXT NOT NULL,
    title TEXT,
    author TEXT,
    is_original BOOLEAN,
    duration_s DOUBLE PRECISION,
    source TEXT,
    PRIMARY KEY (sound_id)
);

CREATE TABLE effects (
    effect_id TEXT NOT NULL,
    name TEXT,
    source TEXT,
    PRIMARY KEY (effect_id)
);

CREATE TABLE videos (
    video_id TEXT NOT NULL,
    creator_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    duration_s DOUBLE PRECISION,
    description TEXT,
    hashtags TEXT[],
    sound_id TEXT,
    effect_ids TEXT[],
    mentions TEXT[],
    region TEXT,
    view_count BIGINT,
    like_count BIGINT,
    comment_count BIGINT,
    share_count BIGINT,
    favourite_count BIGINT,
    transcript TEXT,
    categories TEXT[],
    source TEXT,
    PRIMARY KEY (video_id)
);

CREATE TABLE cocreation_links (
    child_video_id TEXT NOT NULL,
    parent_video_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('duet', 'stitch', 'sound_reuse', 'effect_reuse')),
    created_at TIMESTAMPTZ,
    source TEXT,
    PRIMARY KEY (child_video_id, parent_video_id, kind)
);

CREATE TABLE comments (
    comment_id TEXT NOT NULL,
    video_id TEXT NOT NULL,
    user_id TEXT,
    parent_comment_id TEXT,
    text TEXT NOT NULL,
    created_at TIMESTAMPTZ,
    like_count BIGINT,
    reply_count BIGINT,
    source TEXT,
    PRIMARY KEY (comment_id)
);

CREATE TABLE follows (
    follower_id TEXT NOT NULL,
    followee_id TEXT NOT NULL,
    created_at TIMESTAMPTZ,
    source TEXT,
    PRIMARY KEY (follower_id, followee_id)
);

CREATE TABLE events (
    viewer_id TEXT NOT NULL,
    video_id TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    watch_time_s DOUBLE PRECISION,
    completed BOOLEAN,
    liked BOOLEAN,
    shared BOOLEAN,
    commented BOOLEAN,
    followed BOOLEAN,
    skipped BOOLEAN,
    not_interested BOOLEAN,
    source TEXT,
    PRIMARY KEY (viewer_id, video_id, ts)
);

CREATE INDEX events_ts ON events (ts);

CREATE TABLE ingest_batches (
    batch_id TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    rows BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT,
    seed BIGINT,
    input_fingerprint TEXT,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    summary TEXT
);

CREATE TABLE results_index (
    name TEXT PRIMARY KEY,
    run_id TEXT,
    rows BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
