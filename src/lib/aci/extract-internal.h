/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internal to archive.c, extract.c and extract-child.c. */

#include <sys/types.h>

#include "aci/archive.h"

struct archive_entry;
struct rk_aci_reader;

/* Open fd as an ACI: sniff the compression, set up libarchive (tar only, one filter) and start
 * hashing. Nothing is read beyond what format detection needs. */
int rk_aci_reader_open(int fd, const char *what, const struct rk_aci_limits *l,
                       struct rk_aci_reader **ret, rk_error *err);
/* 1 with *ret_entry set (valid until the next call), 0 at the end of the tar. */
int rk_aci_reader_next(struct rk_aci_reader *r, struct archive_entry **ret_entry, rk_error *err);
/* Data of the current entry: bytes read, 0 at its end, or a negative errno. */
ssize_t rk_aci_reader_read(struct rk_aci_reader *r, void *buf, size_t len, rk_error *err);
/* After the end of the tar: hash any trailing bytes and write "sha512-<hex>". */
int rk_aci_reader_finish(struct rk_aci_reader *r, char ret_id[RK_IMAGE_ID_LEN + 1], rk_error *err);
struct rk_aci_reader *rk_aci_reader_free(struct rk_aci_reader *r);

/* Render n layers into opts->dest_fd in this process (extract.c). */
int rk_aci_extract_in_process(const struct rk_aci_layer *layers, size_t n,
                              const struct rk_aci_opts *opts, const struct rk_aci_limits *l,
                              struct rk_aci_result *results, rk_error *err);

/* Copy name into out (size bytes) for a message: non-printable bytes become \xNN and long
 * names are cut with "...". */
const char *rk_aci_printable(const char *name, char *out, size_t size);
