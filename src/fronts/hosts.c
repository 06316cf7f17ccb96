/*
 * ECR's host names: which hosts are ECR's API endpoints (and the S3 host of
 * the layer download URLs), and which region each names.  The HTTP level
 * routes an API request by it (the region of the endpoint a client called
 * is the region it acts in, as ecrmock_call_as() does), and the libcurl
 * level decides by it which requests it answers.
 *
 * The API endpoints are the ones the AWS SDKs' endpoint rules build for ECR
 * (plus the older forms that still answer): api.ecr.<region>.<suffix> and
 * ecr.<region>.<suffix>, FIPS as ecr-fips.<region>.<suffix> and
 * api.ecr-fips.<region>.<suffix>, with the partition's DNS suffix
 * (amazonaws.com, amazonaws.com.cn), and dual-stack as ecr.<region> and
 * ecr-fips.<region> under the partition's dual-stack suffix (api.aws,
 * api.amazonwebservices.com.cn).
 */
#include <stdio.h>
#include <string.h>

#include "fronts/fronts.h"

/* The partitions' DNS suffixes. */
static const char *const dns[] = {".amazonaws.com", ".amazonaws.com.cn", NULL};

/* A region as one DNS label, as ecrmock_call_as() takes it: 1 to 63 of
 * a-z, 0-9 and '-'. */
static bool region_label(const char *s, size_t n)
{
    if (n == 0 || n >= EM_REGION_SIZE)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* Whether host[0..hl) is `prefix` <region> `suffix` for one of the suffixes;
 * the region into `region`. */
static bool host_form(const char *host, size_t hl, const char *prefix, const char *const *suffixes,
                      char region[EM_REGION_SIZE])
{
    size_t pl = strlen(prefix);
    if (hl <= pl || strncmp(host, prefix, pl) != 0)
        return false;
    for (const char *const *s = suffixes; *s; s++) {
        size_t sl = strlen(*s);
        if (hl > pl + sl && memcmp(host + hl - sl, *s, sl) == 0 && region_label(host + pl, hl - pl - sl)) {
            snprintf(region, EM_REGION_SIZE, "%.*s", (int)(hl - pl - sl), host + pl);
            return true;
        }
    }
    return false;
}

/* host[0..len) lower case, without a port and the root's trailing dot, into
 * h[256]; its length, or SIZE_MAX when too long. */
static size_t host_bare(const char *host, size_t len, char h[256])
{
    const char *colon = memchr(host, ':', len);
    size_t n = colon ? (size_t)(colon - host) : len;
    if (n > 255)
        return SIZE_MAX;
    em_ascii_lower(h, host, n);
    if (n > 0 && h[n - 1] == '.')
        n--;
    h[n] = '\0';
    return n;
}

bool em_registry_host(const char *host, size_t len, char account[13], char region[EM_REGION_SIZE])
{
    char h[256];
    size_t n = host_bare(host, len, h);
    region[0] = account[0] = '\0';
    if (n == SIZE_MAX || n < 13 || h[12] != '.')
        return false;
    for (int i = 0; i < 12; i++)
        if (h[i] < '0' || h[i] > '9')
            return false;
    if (!host_form(h + 13, n - 13, "dkr.ecr.", dns, region) && !host_form(h + 13, n - 13, "dkr.ecr-fips.", dns, region))
        return false;
    memcpy(account, h, 12);
    account[12] = '\0';
    return true;
}

em_host_kind em_ecr_host(const char *host, size_t len, char region[EM_REGION_SIZE])
{
    char account[13];
    if (em_registry_host(host, len, account, region))
        return EM_HOST_REGISTRY;
    static const char *const dual[] = {".api.aws", ".api.amazonwebservices.com.cn", NULL};
    static const char *const api_prefixes[] = {"api.ecr.", "ecr.", "ecr-fips.", "api.ecr-fips.", NULL};
    static const char bucket[] = "-starport-layer-bucket.s3.";
    region[0] = '\0';
    char h[256];
    size_t n = host_bare(host, len, h);
    if (n == SIZE_MAX)
        return EM_HOST_OTHER;
    for (const char *const *p = api_prefixes; *p; p++)
        if (host_form(h, n, *p, dns, region))
            return EM_HOST_API;
    if (host_form(h, n, "ecr.", dual, region) || host_form(h, n, "ecr-fips.", dual, region))
        return EM_HOST_API;
    /* The layer bucket: prod-<region>-starport-layer-bucket.s3[.<region>].amazonaws.com(.cn) */
    const char *mid = strstr(h, bucket);
    if (strncmp(h, "prod-", 5) == 0 && mid && region_label(h + 5, (size_t)(mid - h - 5))) {
        const char *rest = mid + strlen(bucket);
        char ignored[EM_REGION_SIZE];
        if (host_form(rest, strlen(rest), "", dns, ignored) || strcmp(rest, "amazonaws.com") == 0 ||
            strcmp(rest, "amazonaws.com.cn") == 0) {
            snprintf(region, EM_REGION_SIZE, "%.*s", (int)(mid - h - 5), h + 5);
            return EM_HOST_BUCKET;
        }
    }
    region[0] = '\0';
    return EM_HOST_OTHER;
}

ecrmock_host_kind ecrmock_http_host_kind(const char *host, char *region, size_t cap)
{
    char r[EM_REGION_SIZE] = "";
    em_host_kind k = host ? em_ecr_host(host, strlen(host), r) : EM_HOST_OTHER;
    if (region && cap)
        snprintf(region, cap, "%s", k == EM_HOST_OTHER ? "" : r);
    return k == EM_HOST_API        ? ECRMOCK_HOST_API
           : k == EM_HOST_BUCKET   ? ECRMOCK_HOST_BUCKET
           : k == EM_HOST_REGISTRY ? ECRMOCK_HOST_REGISTRY
                                   : ECRMOCK_HOST_OTHER;
}
