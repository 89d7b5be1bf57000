/* SPDX-License-Identifier: Apache-2.0 */
/* The store index: SQLite in WAL mode (cas/index.db). Readers never block each other or a
 * writer; every write is one short BEGIN IMMEDIATE transaction, and a busy timeout makes
 * concurrent writers from other processes wait instead of failing. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "base/json.h"
#include "store/store-internal.h"

#define SCHEMA_VERSION  1
#define BUSY_TIMEOUT_MS 120000
#define LABELS_MAX      (1 << 20)

static const char schema[] = "CREATE TABLE IF NOT EXISTS images ("
                             " id TEXT PRIMARY KEY NOT NULL,"
                             " name TEXT NOT NULL,"
                             " labels TEXT NOT NULL,"
                             " manifest BLOB NOT NULL,"
                             " manifest_sha512 TEXT NOT NULL,"
                             " size INTEGER NOT NULL,"
                             " import_time INTEGER NOT NULL,"
                             " last_used INTEGER NOT NULL,"
                             " signer TEXT, prefix TEXT, rule TEXT, insecure TEXT,"
                             " has_signature INTEGER NOT NULL DEFAULT 0,"
                             " CHECK ((signer IS NULL) <> (insecure IS NULL)));"
                             "CREATE INDEX IF NOT EXISTS images_name ON images(name);"
                             "CREATE TABLE IF NOT EXISTS trees ("
                             " id TEXT PRIMARY KEY NOT NULL,"
                             " image_id TEXT NOT NULL,"
                             " layers TEXT NOT NULL,"
                             " digest TEXT NOT NULL,"
                             " size INTEGER NOT NULL,"
                             " render_time INTEGER NOT NULL,"
                             " last_used INTEGER NOT NULL);"
                             "CREATE INDEX IF NOT EXISTS trees_image ON trees(image_id);"
                             "CREATE TABLE IF NOT EXISTS remote ("
                             " url TEXT PRIMARY KEY NOT NULL,"
                             " etag TEXT,"
                             " max_age INTEGER NOT NULL,"
                             " download_time INTEGER NOT NULL,"
                             " image_id TEXT NOT NULL);"
                             "CREATE INDEX IF NOT EXISTS remote_image ON remote(image_id);";

#define IMAGE_COLS                                                                                 \
        "id, name, labels, manifest_sha512, size, import_time, last_used, signer, prefix, rule, "  \
        "insecure, has_signature, (SELECT COALESCE(SUM(t.size), 0) FROM trees t WHERE "            \
        "t.image_id = images.id)"
#define TREE_COLS "id, image_id, layers, digest, size, render_time, last_used"
/* a tree includes an image when the ID is one of its comma-joined layers */
#define TREE_HAS_IMAGE "instr(',' || layers || ',', ',' || ?1 || ',') > 0"

static int sql_code(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_CONSTRAINT:
                return -EINVAL;
        default:
                return -EIO;
        }
}

static int sql_err(struct rk_store *s, int rc, const char *what, rk_error *err)
{
        return rk_err(err, sql_code(rc), "store index '%s/cas/index.db': %s: %s", s->dir, what,
                      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

static int exec(struct rk_store *s, const char *sql, rk_error *err)
{
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : sql_err(s, rc, sql, err);
}

static int prepare(struct rk_store *s, const char *sql, sqlite3_stmt **ret, rk_error *err)
{
        int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
        return rc == SQLITE_OK ? 0 : sql_err(s, rc, "prepare", err);
}

static int step_done(struct rk_store *s, sqlite3_stmt *st, rk_error *err)
{
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sql_err(s, rc, "write", err);
}

static int begin(struct rk_store *s, rk_error *err)
{
        return exec(s, "BEGIN IMMEDIATE", err);
}

static int end(struct rk_store *s, int r, rk_error *err)
{
        if (r < 0) {
                (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        return exec(s, "COMMIT", err);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *)t) : NULL;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t size)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* ---- open ---- */

/* SQLite would create the file with the umask's mode, and its -wal and -shm files copy the
 * database's mode: make it 0600 first, and refuse anything but our own regular file. */
static int precreate(struct rk_store *s, rk_error *err)
{
        _cleanup_close_ int fd =
            openat(s->casfd, "index.db", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "store index '%s/cas/index.db'", s->dir);
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1 ||
            (st.st_mode & 077))
                return rk_err(err, -EPERM,
                              "store index '%s/cas/index.db': not a private regular file of "
                              "uid %u (mode %04o, uid %u, %ju links); refusing it",
                              s->dir, (unsigned)geteuid(), (unsigned)(st.st_mode & 07777),
                              (unsigned)st.st_uid, (uintmax_t)st.st_nlink);
        return 0;
}

static int set_wal(struct rk_store *s, rk_error *err)
{
        /* switching to WAL needs a moment of exclusive access: retry while others open */
        for (int i = 0; i < 200; i++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                int r = prepare(s, "PRAGMA journal_mode=WAL", &st, err);
                if (r < 0)
                        return r;
                int rc = sqlite3_step(st);
                if (rc == SQLITE_ROW) {
                        const unsigned char *m = sqlite3_column_text(st, 0);
                        if (m && strcmp((const char *)m, "wal") == 0)
                                return 0;
                        return rk_err(err, -EIO, "store index '%s/cas/index.db': cannot use WAL",
                                      s->dir);
                }
                if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
                        return sql_err(s, rc, "journal_mode", err);
                usleep(10000);
        }
        return rk_err(err, -EBUSY, "store index '%s/cas/index.db': busy", s->dir);
}

static int user_version(struct rk_store *s, int *ret, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "PRAGMA user_version", &st, err);
        if (r < 0)
                return r;
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return sql_err(s, rc, "user_version", err);
        *ret = sqlite3_column_int(st, 0);
        return 0;
}

static int migrate(struct rk_store *s, rk_error *err)
{
        int v = 0;
        int r = user_version(s, &v, err);
        if (r < 0)
                return r;
        if (v > SCHEMA_VERSION)
                return rk_err(err, -EPROTO,
                              "store index '%s/cas/index.db': schema version %d is newer than "
                              "this rkt (%d); use a newer rkt",
                              s->dir, v, SCHEMA_VERSION);
        if (v == SCHEMA_VERSION)
                return 0;
        r = begin(s, err);
        if (r < 0)
                return r;
        r = exec(s, schema, err);
        if (r >= 0)
                r = exec(s, "PRAGMA user_version = 1", err);
        return end(s, r, err);
}

int rk_index_open(struct rk_store *s, rk_error *err)
{
        _cleanup_free_ char *path = NULL;
        int r = precreate(s, err);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/cas/index.db", s->dir) < 0)
                return rk_err(err, -ENOMEM, "out of memory");
        int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
        if (rc != SQLITE_OK)
                return sql_err(s, rc, "open", err);
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        /* the index is ours alone: no triggers or views from the file run with our rights */
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
        r = set_wal(s, err);
        if (r >= 0)
                r = exec(s, "PRAGMA synchronous=FULL", err);
        if (r >= 0)
                r = migrate(s, err);
        return r;
}

void rk_index_close(struct rk_store *s)
{
        if (s->db)
                sqlite3_close_v2(s->db);
        s->db = NULL;
}

/* ---- labels as a JSON object in insertion order ---- */

static char *labels_to_json(const struct rk_labels *l)
{
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                if (json_object_set_new(o, l->v[i].name, json_string(l->v[i].value)) < 0)
                        return NULL;
        return json_dumps(o, JSON_COMPACT);
}

static int labels_from_json(const char *text, struct rk_labels *ret, rk_error *err)
{
        _cleanup_json_ json_t *o = NULL;
        int r = rk_json_parse("store index labels", text, strlen(text), LABELS_MAX, &o, err);
        if (r < 0)
                return r;
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "store index: labels are not an object");
        struct rk_labels l = {.v = calloc(json_object_size(o) + 1, sizeof(*l.v))};
        if (!l.v)
                return rk_err(err, -ENOMEM, "out of memory");
        const char *k;
        json_t *v;
        json_object_foreach (o, k, v) {
                l.v[l.n].name = strdup(k);
                l.v[l.n].value = strdup(json_is_string(v) ? json_string_value(v) : "");
                l.n++;
                if (!l.v[l.n - 1].name || !l.v[l.n - 1].value) {
                        rk_labels_clear(&l);
                        return rk_err(err, -ENOMEM, "out of memory");
                }
        }
        *ret = l;
        return 0;
}

/* ---- images ---- */

static int row_to_image(sqlite3_stmt *st, struct rk_image_info *ret, rk_error *err)
{
        struct rk_image_info i = {0};
        const char *labels = (const char *)sqlite3_column_text(st, 2);

        col_copy(st, 0, i.id, sizeof(i.id));
        col_copy(st, 3, i.manifest_sha512, sizeof(i.manifest_sha512));
        i.name = col_strdup(st, 1);
        i.size = (uint64_t)sqlite3_column_int64(st, 4);
        i.import_time = sqlite3_column_int64(st, 5);
        i.last_used = sqlite3_column_int64(st, 6);
        i.signer = col_strdup(st, 7);
        i.prefix = col_strdup(st, 8);
        i.rule = col_strdup(st, 9);
        i.insecure = col_strdup(st, 10);
        i.has_signature = sqlite3_column_int(st, 11) != 0;
        i.tree_bytes = (uint64_t)sqlite3_column_int64(st, 12);
        int r = i.name ? labels_from_json(labels ? labels : "{}", &i.labels, err)
                       : rk_err(err, -ENOMEM, "out of memory");
        if (r < 0) {
                rk_image_info_clear(&i);
                return r;
        }
        *ret = i;
        return 0;
}

int rk_index_image_get(struct rk_store *s, const char *id, struct rk_image_info *ret, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT " IMAGE_COLS " FROM images WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return rk_err(err, -ENOENT, "image %s: not in the store", id);
        if (rc != SQLITE_ROW)
                return sql_err(s, rc, "read image", err);
        return row_to_image(st, ret, err);
}

int rk_index_manifest_get(struct rk_store *s, const char *id, char **ret, size_t *ret_len,
                          char sha[RK_SHA512_HEX_LEN + 1], rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT manifest, manifest_sha512 FROM images WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return rk_err(err, -ENOENT, "image %s: not in the store", id);
        if (rc != SQLITE_ROW)
                return sql_err(s, rc, "read manifest", err);
        int n = sqlite3_column_bytes(st, 0);
        const void *b = sqlite3_column_blob(st, 0);
        if (n < 0 || n > RK_MANIFEST_MAX)
                return rk_err(err, -EBADMSG, "image %s: stored manifest is too large", id);
        char *m = malloc((size_t)n + 1);
        if (!m)
                return rk_err(err, -ENOMEM, "out of memory");
        if (n)
                memcpy(m, b, (size_t)n);
        m[n] = 0;
        col_copy(st, 1, sha, RK_SHA512_HEX_LEN + 1);
        *ret = m;
        *ret_len = (size_t)n;
        return 0;
}

int rk_index_image_put(struct rk_store *s, const struct rk_image_info *i, const char *manifest,
                       size_t manifest_len, rk_error *err)
{
        _cleanup_free_ char *labels = labels_to_json(&i->labels);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (!labels)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = prepare(s,
                        "INSERT OR REPLACE INTO images (id, name, labels, manifest, "
                        "manifest_sha512, size, import_time, last_used, signer, prefix, rule, "
                        "insecure, has_signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                        "?10, ?11, ?12, ?13)",
                        &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, i->id);
        bind_text(st, 2, i->name);
        bind_text(st, 3, labels);
        sqlite3_bind_blob(st, 4, manifest, (int)manifest_len, SQLITE_STATIC);
        bind_text(st, 5, i->manifest_sha512);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)i->size);
        sqlite3_bind_int64(st, 7, i->import_time);
        sqlite3_bind_int64(st, 8, i->last_used);
        bind_text(st, 9, i->signer);
        bind_text(st, 10, i->prefix);
        bind_text(st, 11, i->rule);
        bind_text(st, 12, i->insecure);
        sqlite3_bind_int(st, 13, i->has_signature);
        r = begin(s, err);
        if (r < 0)
                return r;
        return end(s, step_done(s, st, err), err);
}

int rk_index_image_delete(struct rk_store *s, const char *id, rk_error *err)
{
        static const char *const sql[] = {
            "DELETE FROM trees WHERE " TREE_HAS_IMAGE,
            "DELETE FROM remote WHERE image_id = ?1",
            "DELETE FROM images WHERE id = ?1",
        };
        int r = begin(s, err);
        if (r < 0)
                return r;
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(sql); k++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                r = prepare(s, sql[k], &st, err);
                if (r >= 0) {
                        bind_text(st, 1, id);
                        r = step_done(s, st, err);
                }
        }
        return end(s, r, err);
}

static int touch(struct rk_store *s, const char *sql, const char *id, int64_t when, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, sql, &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, when);
        return step_done(s, st, err);
}

int rk_index_image_touch(struct rk_store *s, const char *id, int64_t when, rk_error *err)
{
        return touch(s, "UPDATE images SET last_used = ?2 WHERE id = ?1", id, when, err);
}

int rk_index_ids_by_prefix(struct rk_store *s, const char *prefix, char (*ids)[RK_IMAGE_ID_LEN + 1],
                           size_t max, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* IDs are lowercase hex after the prefix, and 'g' sorts after every hex digit */
        int r = prepare(s,
                        "SELECT id FROM images WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id "
                        "LIMIT ?2",
                        &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, prefix);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        size_t n = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
                col_copy(st, 0, ids[n++], RK_IMAGE_ID_LEN + 1);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return sql_err(s, rc, "find image", err);
        return (int)n;
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
        if (n < *cap)
                return 0;
        size_t ncap = *cap ? *cap * 2 : 16;
        void *nv = reallocarray(*v, ncap, elem);
        if (!nv)
                return -ENOMEM;
        memset((char *)nv + *cap * elem, 0, (ncap - *cap) * elem);
        *v = nv;
        *cap = ncap;
        return 0;
}

int rk_index_images(struct rk_store *s, const char *name, struct rk_image_info **ret, size_t *ret_n,
                    rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        name ? "SELECT " IMAGE_COLS " FROM images WHERE name = ?1 ORDER BY "
                               "import_time DESC, id"
                             : "SELECT " IMAGE_COLS " FROM images ORDER BY import_time, id",
                        &st, err);
        if (r < 0)
                return r;
        if (name)
                bind_text(st, 1, name);
        struct rk_image_info *v = NULL;
        size_t n = 0, cap = 0;
        int rc;
        while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = grow((void **)&v, &cap, n, sizeof(*v));
                if (r < 0)
                        r = rk_err(err, r, "out of memory");
                else if ((r = row_to_image(st, &v[n], err)) >= 0)
                        n++;
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = sql_err(s, rc, "list images", err);
        if (r < 0) {
                rk_image_infos_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- trees ---- */

static int row_to_tree(sqlite3_stmt *st, struct rk_tree_info *ret, rk_error *err)
{
        struct rk_tree_info t = {0};
        col_copy(st, 0, t.id, sizeof(t.id));
        col_copy(st, 1, t.image_id, sizeof(t.image_id));
        t.layers = col_strdup(st, 2);
        col_copy(st, 3, t.digest, sizeof(t.digest));
        t.size = (uint64_t)sqlite3_column_int64(st, 4);
        t.render_time = sqlite3_column_int64(st, 5);
        t.last_used = sqlite3_column_int64(st, 6);
        if (!t.layers)
                return rk_err(err, -ENOMEM, "out of memory");
        *ret = t;
        return 0;
}

int rk_index_tree_get(struct rk_store *s, const char *tree_id, struct rk_tree_info *ret,
                      rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT " TREE_COLS " FROM trees WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, tree_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return rk_err(err, -ENOENT, "tree %s: not in the store", tree_id);
        if (rc != SQLITE_ROW)
                return sql_err(s, rc, "read tree", err);
        return row_to_tree(st, ret, err);
}

int rk_index_tree_put(struct rk_store *s, const struct rk_tree_info *t, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "INSERT OR REPLACE INTO trees (" TREE_COLS ") VALUES (?1, ?2, ?3, ?4, "
                        "?5, ?6, ?7)",
                        &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, t->id);
        bind_text(st, 2, t->image_id);
        bind_text(st, 3, t->layers);
        bind_text(st, 4, t->digest);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)t->size);
        sqlite3_bind_int64(st, 6, t->render_time);
        sqlite3_bind_int64(st, 7, t->last_used);
        r = begin(s, err);
        if (r < 0)
                return r;
        return end(s, step_done(s, st, err), err);
}

int rk_index_tree_delete(struct rk_store *s, const char *tree_id, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "DELETE FROM trees WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, tree_id);
        return step_done(s, st, err);
}

int rk_index_tree_touch(struct rk_store *s, const char *tree_id, int64_t when, rk_error *err)
{
        return touch(s, "UPDATE trees SET last_used = ?2 WHERE id = ?1", tree_id, when, err);
}

int rk_index_trees(struct rk_store *s, const char *image_id, struct rk_tree_info **ret,
                   size_t *ret_n, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        image_id ? "SELECT " TREE_COLS " FROM trees WHERE " TREE_HAS_IMAGE
                                   " ORDER BY id"
                                 : "SELECT " TREE_COLS " FROM trees ORDER BY id",
                        &st, err);
        if (r < 0)
                return r;
        if (image_id)
                bind_text(st, 1, image_id);
        struct rk_tree_info *v = NULL;
        size_t n = 0, cap = 0;
        int rc;
        while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = grow((void **)&v, &cap, n, sizeof(*v));
                if (r < 0)
                        r = rk_err(err, r, "out of memory");
                else if ((r = row_to_tree(st, &v[n], err)) >= 0)
                        n++;
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = sql_err(s, rc, "list trees", err);
        if (r < 0) {
                rk_tree_infos_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- remote cache ---- */

int rk_index_remote_get(struct rk_store *s, const char *url, struct rk_remote *ret, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "SELECT r.url, r.etag, r.max_age, r.download_time, r.image_id FROM "
                        "remote r JOIN images i ON i.id = r.image_id WHERE r.url = ?1",
                        &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, url);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return rk_err(err, -ENOENT, "'%s': not in the remote cache", url);
        if (rc != SQLITE_ROW)
                return sql_err(s, rc, "read remote", err);
        struct rk_remote m = {0};
        m.url = col_strdup(st, 0);
        m.etag = col_strdup(st, 1);
        m.max_age = sqlite3_column_int64(st, 2);
        m.download_time = sqlite3_column_int64(st, 3);
        col_copy(st, 4, m.image_id, sizeof(m.image_id));
        if (!m.url || (sqlite3_column_type(st, 1) != SQLITE_NULL && !m.etag)) {
                rk_remote_clear(&m);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        *ret = m;
        return 0;
}

int rk_index_remote_put(struct rk_store *s, const struct rk_remote *m, rk_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "INSERT OR REPLACE INTO remote (url, etag, max_age, download_time, "
                        "image_id) SELECT ?1, ?2, ?3, ?4, id FROM images WHERE id = ?5",
                        &st, err);
        if (r < 0)
                return r;
        bind_text(st, 1, m->url);
        bind_text(st, 2, m->etag);
        sqlite3_bind_int64(st, 3, m->max_age);
        sqlite3_bind_int64(st, 4, m->download_time);
        bind_text(st, 5, m->image_id);
        r = begin(s, err);
        if (r < 0)
                return r;
        r = step_done(s, st, err);
        if (r >= 0 && sqlite3_changes(s->db) == 0)
                r = rk_err(err, -ENOENT, "remote cache '%s': image %s is not in the store", m->url,
                           m->image_id);
        return end(s, r, err);
}
