/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

/* Read an fd to EOF, refusing more than max bytes (-EFBIG). The result is NUL-terminated (the
 * NUL is not counted in *ret_len). what names the object in errors. */
int rk_read_fd_capped(int fd, const char *what, size_t max, char **ret, size_t *ret_len,
                      rk_error *err);
/* Same for a file opened (O_NOFOLLOW) relative to dirfd. */
int rk_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                    rk_error *err);
/* Write all of buf, retrying short writes and EINTR. */
int rk_write_all(int fd, const void *buf, size_t len);
/* Write a file atomically: temp file in dirfd, fsync, renameat over name, fsync dirfd. */
int rk_write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                            rk_error *err);
/* Create a directory and its parents (mode for the new ones); existing ones are fine. */
int rk_mkdir_p(const char *path, mode_t mode, rk_error *err);
/* The names in the directory dirfd (without "." and ".."), malloc'd, bytewise sorted if sort;
 * dirfd itself is left open and untouched (a duplicate is read). */
int rk_dir_names(int dirfd, bool sort, char ***ret, size_t *ret_n);
/* Frees n strings and the array (NULL-safe). */
void rk_strv_free(char **v, size_t n);
/* Remove a tree below dirfd/name without following symlinks (name itself removed too). */
int rk_rm_rf_at(int dirfd, const char *name, rk_error *err);
