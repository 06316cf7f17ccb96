/*
 * What the wire-level fuzz targets start from: repository "web" holding a
 * config and a layer and the image tagged v1 over them (fuzz_wire.c,
 * fuzz_forms.c), so that the handlers get past their lookups.
 */
#ifndef ECRMOCK_FUZZ_WEB_IMAGE_H
#define ECRMOCK_FUZZ_WEB_IMAGE_H

#include <stdio.h>

#include "ecrmock.h"

static void web_image(ecrmock *m)
{
    json_t *r = NULL;
    json_t *req = json_pack("{s:s}", "repositoryName", "web");
    ecrmock_call(m, "CreateRepository", req, &r);
    json_decref(req);
    json_decref(r);
    char cfg[ECRMOCK_DIGEST_SIZE], layer[ECRMOCK_DIGEST_SIZE];
    ecrmock_put_layer(m, NULL, "web", "{}", 2, cfg, NULL);
    ecrmock_put_layer(m, NULL, "web", "layer", 5, layer, NULL);
    char manifest[1024];
    snprintf(manifest, sizeof manifest,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
             "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":2,\"digest\":\"%s\"},"
             "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":5,\"digest\":\"%s\"}]}",
             cfg, layer);
    req = json_pack("{s:s, s:s, s:s}", "repositoryName", "web", "imageManifest", manifest, "imageTag", "v1");
    ecrmock_call(m, "PutImage", req, &r);
    json_decref(req);
    json_decref(r);
}

#endif
