/* SPDX-License-Identifier: Apache-2.0 */
/* Finding images in the store, reading them, removing them. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/json.h"
#include "store/store-internal.h"

#define REF_LABELS  32
#define REF_FMT_LEN 300

/* ---- references ---- */

static int resolve_id(struct rk_store *s, const char *ref, struct rk_image_info *ret, rk_error *err)
{
        char ids[2][RK_IMAGE_ID_LEN + 1];
        if (strlen(ref) < 9)
                return rk_err(err, -EINVAL,
                              "image %s: ID prefix too short; give at least 2 hex digits after "
                              "'sha512-'",
                              RK_QUOTE(ref));
        int r = rk_image_id_prefix_validate(ref, NULL, err);
        if (r < 0)
                return rk_err_prefix(err, r, "image %s", RK_QUOTE(ref));
        r = rk_index_ids_by_prefix(s, ref, ids, 2, err);
        if (r < 0)
                return r;
        if (r == 0)
                return rk_err(err, -ENOENT,
                              "image '%s': not in the store; see 'rkt image list' or 'rkt fetch'",
                              ref);
        if (r > 1)
                return rk_err(err, -ENOTUNIQ,
                              "image '%s': ID prefix is ambiguous (matches %.39s, %.39s, ...); "
                              "give more digits",
                              ref, ids[0], ids[1]);
        return rk_index_image_get(s, ids[0], ret, err);
}

static bool labels_match(const struct rk_labels *have, const struct rk_labels *want)
{
        for (size_t i = 0; want && i < want->n; i++) {
                const char *v = rk_labels_get(have, want->v[i].name);
                if (!v || strcmp(v, want->v[i].value) != 0)
                        return false;
        }
        return true;
}

static const char *format_ref(const char *name, const struct rk_labels *l, char *buf, size_t size)
{
        size_t off = (size_t)snprintf(buf, size, "%s", name);
        for (size_t i = 0; l && i < l->n && off < size; i++)
                off +=
                    (size_t)snprintf(buf + off, size - off, ",%s=%s", l->v[i].name, l->v[i].value);
        return buf;
}

int rk_store_find(struct rk_store *s, const char *name, const struct rk_labels *labels,
                  struct rk_image_info *ret, rk_error *err)
{
        struct rk_image_info *v = NULL;
        size_t n = 0;
        char ref[REF_FMT_LEN];
        int r = rk_index_images(s, name, &v, &n, err);
        if (r < 0)
                return r;
        /* newest import first: the first match is the best one */
        for (size_t i = 0; i < n; i++) {
                if (!labels_match(&v[i].labels, labels))
                        continue;
                *ret = v[i];
                v[i] = (struct rk_image_info){0};
                rk_image_infos_free(v, n);
                return 0;
        }
        rk_image_infos_free(v, n);
        format_ref(name, labels, ref, sizeof(ref));
        if (n == 0)
                return rk_err(err, -ENOENT,
                              "image '%s': not in the store; see 'rkt image list' or 'rkt fetch'",
                              ref);
        return rk_err(err, -ENOENT,
                      "image '%s': not in the store (%zu image%s named '%s' with other labels); "
                      "see 'rkt image list'",
                      ref, n, n == 1 ? "" : "s", name);
}

/* "name[:version][,label=value...]"; buf is modified and the labels point into it. */
static int parse_name_ref(char *buf, const char *ref, struct rk_label *lv, struct rk_labels *labels,
                          const char **ret_name, rk_error *err)
{
        char *save = NULL, *name = strtok_r(buf, ",", &save);
        if (!name)
                return rk_err(err, -EINVAL, "image %s: empty reference", RK_QUOTE(ref));
        char *colon = strchr(name, ':');
        if (colon) {
                *colon = 0;
                lv[labels->n++] = (struct rk_label){.name = "version", .value = colon + 1};
        }
        int r = rk_ac_identifier_validate(name, "name", err);
        if (r < 0)
                return rk_err_prefix(err, r, "image %s", RK_QUOTE(ref));
        for (char *t = strtok_r(NULL, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(t, '=');
                if (!eq || eq == t)
                        return rk_err(err, -EINVAL, "image %s: %s is not a label=value pair",
                                      RK_QUOTE(ref), RK_QUOTE(t));
                *eq = 0;
                if (labels->n == REF_LABELS)
                        return rk_err(err, -E2BIG, "image %s: too many labels", RK_QUOTE(ref));
                if (rk_labels_get(labels, t))
                        return rk_err(err, -EINVAL, "image %s: label '%s' given twice",
                                      RK_QUOTE(ref), t);
                lv[labels->n++] = (struct rk_label){.name = t, .value = eq + 1};
        }
        *ret_name = name;
        return 0;
}

int rk_store_resolve(struct rk_store *s, const char *ref, struct rk_image_info *ret, rk_error *err)
{
        if (!ref || !*ref)
                return rk_err(err, -EINVAL, "image reference is empty");
        if (strncmp(ref, "sha512-", 7) == 0)
                return resolve_id(s, ref, ret, err);
        if (strlen(ref) > RK_ACI_NAME_MAX + 1024)
                return rk_err(err, -EINVAL, "image reference too long");
        _cleanup_free_ char *buf = strdup(ref);
        struct rk_label lv[REF_LABELS + 1];
        struct rk_labels labels = {.v = lv};
        const char *name = NULL;
        if (!buf)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = parse_name_ref(buf, ref, lv, &labels, &name, err);
        if (r < 0)
                return r;
        return rk_store_find(s, name, &labels, ret, err);
}

int rk_store_get(struct rk_store *s, const char *id, struct rk_image_info *ret, rk_error *err)
{
        if (!rk_store_is_image_id(id))
                return rk_err(err, -EINVAL, "image %s: not a full image ID", RK_QUOTE(id));
        return rk_index_image_get(s, id, ret, err);
}

int rk_store_list(struct rk_store *s, struct rk_image_info **ret, size_t *ret_n, rk_error *err)
{
        return rk_index_images(s, NULL, ret, ret_n, err);
}

/* ---- contents ---- */

int rk_store_manifest(struct rk_store *s, const char *id, char **ret_raw, size_t *ret_len,
                      struct rk_image_manifest **ret_m, rk_error *err)
{
        _cleanup_free_ char *raw = NULL;
        size_t len = 0;
        char want[RK_SHA512_HEX_LEN + 1], got[RK_SHA512_HEX_LEN + 1];
        int r = rk_index_manifest_get(s, id, &raw, &len, want, err);
        if (r < 0)
                return r;
        r = rk_sha512_buf_hex(raw, len, got, err);
        if (r < 0)
                return r;
        if (strcmp(want, got) != 0)
                return rk_err(err, -EBADMSG,
                              "image %s: the stored manifest does not match its digest; the "
                              "index is damaged (run 'rkt image verify')",
                              id);
        if (ret_m) {
                char what[RK_IMAGE_ID_LEN + 16];
                snprintf(what, sizeof(what), "image %s", id);
                r = rk_image_manifest_parse(what, raw, len, ret_m, err);
                if (r < 0)
                        return r;
        }
        if (ret_len)
                *ret_len = len;
        if (ret_raw)
                *ret_raw = TAKE_PTR(raw);
        return 0;
}

int rk_store_open_blob(struct rk_store *s, const char *id, rk_error *err)
{
        if (!rk_store_is_image_id(id))
                return rk_err(err, -EINVAL, "image %s: not a full image ID", RK_QUOTE(id));
        _cleanup_close_ int shard = rk_store_shard_open(s, id, false, err);
        if (shard == -ENOENT)
                goto missing;
        if (shard < 0)
                return shard;
        int fd = openat(shard, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                goto missing;
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "image %s: cannot open blob", id);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                safe_close(fd);
                return rk_err(err, -EBADMSG, "image %s: blob is not a regular file", id);
        }
        return fd;
missing:
        return rk_err(err, -ENOENT,
                      "image %s: blob missing from the store; run 'rkt image gc' to drop the "
                      "stale entry, then fetch the image again",
                      id);
}

int rk_store_signature(struct rk_store *s, const char *id, char **ret, size_t *ret_len,
                       rk_error *err)
{
        char name[RK_IMAGE_ID_LEN + 8], what[RK_IMAGE_ID_LEN + 32];
        if (!rk_store_is_image_id(id))
                return rk_err(err, -EINVAL, "image %s: not a full image ID", RK_QUOTE(id));
        _cleanup_close_ int shard = rk_store_shard_open(s, id, false, err);
        if (shard < 0)
                return shard;
        snprintf(name, sizeof(name), "%s.asc", id);
        snprintf(what, sizeof(what), "image %s: signature", id);
        _cleanup_close_ int fd = openat(shard, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return rk_err(err, -ENOENT, "image %s: no signature stored", id);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "%s", what);
        return rk_read_fd_capped(fd, what, RK_SIG_MAX, ret, ret_len, err);
}

int rk_store_touch(struct rk_store *s, const char *id, rk_error *err)
{
        return rk_index_image_touch(s, id, rk_store_now(), err);
}

int rk_store_export(struct rk_store *s, const char *id, int out_fd, rk_error *err)
{
        _cleanup_close_ int fd = rk_store_open_blob(s, id, err);
        if (fd < 0)
                return fd;
        char what[RK_IMAGE_ID_LEN + 16];
        snprintf(what, sizeof(what), "image %s", id);
        return rk_store_copy(fd, out_fd, what, err);
}

/* ---- removal ---- */

static int remove_files(struct rk_store *s, const char *id, rk_error *err)
{
        char name[RK_IMAGE_ID_LEN + 8];
        _cleanup_close_ int shard = rk_store_shard_open(s, id, false, err);
        if (shard == -ENOENT)
                return 0;
        if (shard < 0)
                return shard;
        snprintf(name, sizeof(name), "%s.asc", id);
        if (unlinkat(shard, name, 0) < 0 && errno != ENOENT)
                return rk_err_errno(err, negative_errno(), "image %s: cannot remove signature", id);
        if (unlinkat(shard, id, 0) < 0 && errno != ENOENT)
                return rk_err_errno(err, negative_errno(), "image %s: cannot remove blob", id);
        (void)fsync(shard);
        return 0;
}

int rk_store_remove(struct rk_store *s, const char *id, rk_error *err)
{
        struct rk_image_info info = {0};
        int r = rk_store_get(s, id, &info, err);
        if (r < 0)
                return r;
        r = rk_store_audit(s, NULL, NULL, err);
        _cleanup_close_ int sl = r < 0 ? -EBADF : rk_store_lock(s, LOCK_SH, err);
        _cleanup_close_ int il = sl < 0 ? -EBADF : rk_store_lock_image(s, id, LOCK_EX, err);
        if (r >= 0 && (sl < 0 || il < 0))
                r = sl < 0 ? sl : il;
        /* trees first, then the row, then the files: a crash in between leaves a blob without
         * row, which gc removes */
        if (r >= 0)
                r = rk_tree_remove_for_image(s, id, err);
        if (r >= 0)
                r = rk_index_image_delete(s, id, err);
        if (r >= 0)
                r = remove_files(s, id, err);
        if (r >= 0)
                r = rk_store_audit(s, "remove",
                                   json_pack("{s:s, s:s}", "image", id, "name", info.name), err);
        rk_image_info_clear(&info);
        return r;
}
