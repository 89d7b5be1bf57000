/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Stage0's side of the metadata service (`rkt run --mds-register`): register a prepared pod
 * over the root-only socket and give its apps AC_METADATA_URL. */

#include "base/error.h"
#include "pod/pod.h"
#include "store/store.h"

/* Registers the pod (its reified manifest, each app's image manifest from the store and a new
 * random token) with the service at RK_MDS_SOCKET, then adds
 * AC_METADATA_URL=<base URL from the service>/<token> to every app's environment in
 * plan.json. net: the pod's --net; any but "host" is contained: the plan also gets
 * "mds": {"port": N} and stage1 hands the service a listener in the pod's namespace. The caller
 * must be the process that becomes the pod's stage1 (the service watches it: the pod is
 * unregistered when it exits). */
int rk_mds_register_pod(struct rk_pod *pod, struct rk_store *s, const char *net, rk_error *err);
