"""The relational schema (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Every table has an integer primary key ``pk`` (insertion order: keyset pagination and joins) and,
for the objects users see, a public string ``id``. JSON payloads are stored as text encoded with
orjson; timestamps as canonical ISO strings (see :mod:`labelport.timeutil`). Two side tables make
JSON-shaped filters plain, indexable SQL on both databases: ``label_categories`` (how often each
category occurs in a label: ``category_search``) and ``asset_metadata`` (top-level ``jsonMetadata``
values: ``metadata_where``). ``asset_media`` lists the stored media files each asset uses (its file and
its video frames), so that whether a file is still used is one indexed lookup. ``api_keys`` holds the
API keys the server authenticates with: a hash of each key, never the key. ``jobs`` is the durable
record of the background jobs the server runs (exports): who asked for what, its state, progress,
heartbeat and result (:mod:`labelport.services.jobs`).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = String(40)
TS = String(24)

meta = Table(
    "labelport_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("firstname", String(200), nullable=False, default=""),
    Column("lastname", String(200), nullable=False, default=""),
    Column("activated", Boolean, nullable=False, default=True),
    Column("organization_role", String(16), nullable=False, default="USER"),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("title", String(500), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("input_type", String(16), nullable=False),
    Column("json_interface", Text, nullable=False),
    Column("instructions", Text, nullable=True),
    Column("consensus_tot_coverage", Integer, nullable=False, default=0),
    Column("min_consensus_size", Integer, nullable=False, default=1),
    Column("review_coverage", Integer, nullable=False, default=0),
    Column("use_honeypot", Boolean, nullable=False, default=False),
    Column("can_navigate_between_assets", Boolean, nullable=False, default=True),
    Column("can_skip_asset", Boolean, nullable=False, default=False),
    Column("metadata_properties", Text, nullable=False, default="{}"),
    Column("archived", Boolean, nullable=False, default=False),
    Column("starred", Boolean, nullable=False, default=False),
    Column("author_pk", Integer, ForeignKey("users.pk"), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_projects_updated_at", "updated_at"),
)

project_members = Table(
    "project_members",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("project_pk", Integer, ForeignKey("projects.pk", ondelete="CASCADE"), nullable=False),
    Column("user_pk", Integer, ForeignKey("users.pk"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("activated", Boolean, nullable=False, default=True),
    Column("starred", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("project_pk", "user_pk", name="uq_member_project_user"),
    Index("ix_members_user", "user_pk"),
)

assets = Table(
    "assets",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("project_pk", Integer, ForeignKey("projects.pk", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(1000), nullable=False),
    Column("content", Text, nullable=False, default=""),
    Column("media_key", String(200), nullable=True),
    Column("json_content", Text, nullable=False, default=""),
    Column("json_metadata", Text, nullable=False, default="{}"),
    Column("status", String(16), nullable=False, default="TODO"),
    Column("skipped", Boolean, nullable=False, default=False),
    Column("is_honeypot", Boolean, nullable=False, default=False),
    Column("is_used_for_consensus", Boolean, nullable=False, default=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("consensus_mark", Float, nullable=True),
    Column("honeypot_mark", Float, nullable=True),
    Column("inference_mark", Float, nullable=True),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("page_resolutions", Text, nullable=True),
    Column("latest_label_pk", Integer, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("project_pk", "external_id", name="uq_asset_project_external_id"),
    Index("ix_assets_project_pk", "project_pk", "pk"),
    Index("ix_assets_project_status", "project_pk", "status"),
    Index("ix_assets_project_consensus", "project_pk", "consensus_mark"),
    Index("ix_assets_project_honeypot", "project_pk", "honeypot_mark"),
    Index("ix_assets_project_inference", "project_pk", "inference_mark"),
    Index("ix_assets_project_created", "project_pk", "created_at"),
    Index("ix_assets_project_updated", "project_pk", "updated_at"),
    Index("ix_assets_media_key", "media_key"),
)

labels = Table(
    "labels",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("project_pk", Integer, ForeignKey("projects.pk", ondelete="CASCADE"), nullable=False),
    Column("asset_pk", Integer, ForeignKey("assets.pk", ondelete="CASCADE"), nullable=False),
    Column("author_pk", Integer, ForeignKey("users.pk"), nullable=False),
    Column("label_type", String(16), nullable=False),
    Column("json_response", Text, nullable=False),
    Column("seconds_to_label", Float, nullable=True),
    Column("model_name", String(500), nullable=True),
    Column("number_of_annotations", Integer, nullable=False, default=0),
    Column("consensus_mark", Float, nullable=True),
    Column("honeypot_mark", Float, nullable=True),
    Column("inference_mark", Float, nullable=True),
    Column("is_latest_for_user", Boolean, nullable=False, default=False),
    Column("is_latest_default_for_user", Boolean, nullable=False, default=False),
    Column("is_latest_review_for_user", Boolean, nullable=False, default=False),
    Column("is_sent_back_to_queue", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_labels_asset", "asset_pk", "pk"),
    Index("ix_labels_project_pk", "project_pk", "pk"),
    Index("ix_labels_project_author", "project_pk", "author_pk"),
    Index("ix_labels_project_type", "project_pk", "label_type"),
    Index("ix_labels_project_honeypot", "project_pk", "honeypot_mark"),
    Index("ix_labels_project_consensus", "project_pk", "consensus_mark"),
    Index("ix_labels_project_created", "project_pk", "created_at"),
    # members' marks (project_users' consensusMark, honeypotMark, numberOfLabeledAssets; the web UI's
    # Quality page) read from the index alone, never from the rows and their jsonResponse
    Index("ix_labels_member_assets", "project_pk", "author_pk", "label_type", "asset_pk"),
    Index("ix_labels_member_honeypot", "project_pk", "author_pk", "is_latest_default_for_user", "honeypot_mark"),
)

label_categories = Table(
    "label_categories",
    metadata,
    Column("label_pk", Integer, ForeignKey("labels.pk", ondelete="CASCADE"), primary_key=True),
    Column("job", String(200), primary_key=True),
    Column("category", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,  # the primary key is the table: one b-tree per row instead of two
)

asset_metadata = Table(
    "asset_metadata",
    metadata,
    Column("asset_pk", Integer, ForeignKey("assets.pk", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value_text", Text, nullable=True),
    Column("value_num", Float, nullable=True),
    Index("ix_asset_metadata_text", "key", "value_text"),
    Index("ix_asset_metadata_num", "key", "value_num"),
    sqlite_with_rowid=False,
)

asset_media = Table(
    "asset_media",
    metadata,
    Column("asset_pk", Integer, ForeignKey("assets.pk", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Index("ix_asset_media_key", "key"),
    sqlite_with_rowid=False,
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("key_hash", String(64), nullable=False),  # SHA-256 of the key, hex; the key itself is never stored
    Column("prefix", String(16), nullable=False),  # the key's first characters, not secret: to tell keys apart
    Column("created_at", TS, nullable=False),
    Column("expiry_date", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
    Index("ix_api_keys_hash", "key_hash", unique=True),
    Index("ix_api_keys_user", "user_pk", "pk"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False, unique=True),  # a UUID
    Column("kind", String(16), nullable=False),  # "export"
    Column("project_id", ID, nullable=False),  # the project's public id (kept when the project is deleted)
    Column("requested_by", String(320), nullable=False),  # the email of the user who started it
    Column("options", Text, nullable=False),  # JSON: export_labels' arguments, by their names
    Column("state", String(16), nullable=False),  # queued, running, succeeded, failed, cancelled
    Column("done", Integer, nullable=False, default=0),  # assets done
    Column("total", Integer, nullable=True),  # assets to do, once known
    Column("report", Text, nullable=True),  # JSON: the export's report
    Column("error", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("started_at", TS, nullable=True),
    Column("finished_at", TS, nullable=True),
    Column("heartbeat_at", TS, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("worker", String(200), nullable=True),  # host:pid of the process running it
    Column("archive_key", String(200), nullable=True),  # the archive in the job storage, once complete
    Column("archive_size", Integer, nullable=True),
    Index("ix_jobs_project", "project_id", "pk"),
    Index("ix_jobs_state", "state", "pk"),
)

#: The web UI's passwords (argon2 hashes, never the password), one per user who has one.
passwords = Table(
    "passwords",
    metadata,
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), primary_key=True),
    Column("hash", String(200), nullable=False),
    Column("updated_at", TS, nullable=False),
)

#: The web UI's sign-in sessions: the SHA-256 of the session token (the cookie holds the token), the
#: CSRF token its forms carry, and when it ends. Signing out deletes the row.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Index("ix_web_sessions_token", "token_hash", unique=True),
    Index("ix_web_sessions_user", "user_pk"),
)
