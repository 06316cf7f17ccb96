/*
 * quickstart: the README's first example, as a program that builds and runs
 * in `make test` (and against an installed ecrmock in CI, through
 * pkg-config), so the README cannot drift from the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ecrmock.h>

int main(void)
{
    ecrmock *m = ecrmock_new(NULL); /* account 123456789012, us-east-1 */
    if (!m)
        return 1;

    /* The JSON level: an action name and the request object. */
    json_t *req = json_pack("{s:s}", "repositoryName", "team/web");
    json_t *resp = NULL;
    int status = ecrmock_call(m, "CreateRepository", req, &resp); /* 200 */
    json_decref(req);
    printf("%d %s\n", status,
           json_string_value(json_object_get(json_object_get(resp, "repository"), "repositoryUri")));
    json_decref(resp);

    /* The wire level: the X-Amz-Target and the AWS JSON 1.1 body, bytes in and out. */
    const char *body = "{\"repositoryName\":\"team/web\"}";
    char *out = NULL;
    size_t out_len = 0;
    status = ecrmock_call_raw(m, "AmazonEC2ContainerRegistry_V20150921.CreateRepository", body, strlen(body), &out,
                              &out_len);
    printf("%d %s\n", status, out); /* 400 RepositoryAlreadyExistsException */
    ecrmock_buffer_free(out);

    ecrmock_free(m);
    return status == 400 ? 0 : 1;
}
