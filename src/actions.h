/*
 * The actions ecrmock serves: one list, sorted by name, that declares the
 * handlers and builds the dispatch table (dispatch.c).  Each handler lives
 * in the source file of its area of ECR:
 *   repositories.c       CreateRepository, DescribeRepositories, DeleteRepository
 *   layer_upload.c       InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload,
 *                        BatchCheckLayerAvailability
 *   layer_download.c     GetDownloadUrlForLayer
 *   images.c             PutImage, BatchGetImage, BatchDeleteImage, ListImages, DescribeImages
 *   auth.c               GetAuthorizationToken
 *   repository_policy.c  SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy
 *   resource_tags.c      TagResource, UntagResource, ListTagsForResource
 *   tag_mutability.c     PutImageTagMutability
 *   lifecycle.c          PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy,
 *                        StartLifecyclePolicyPreview, GetLifecyclePolicyPreview
 */
#ifndef ECRMOCK_ACTIONS_H
#define ECRMOCK_ACTIONS_H

#include "internal.h"

#define EM_ACTION_LIST(X)             \
    X(BatchCheckLayerAvailability)    \
    X(BatchDeleteImage)               \
    X(BatchGetImage)                  \
    X(CompleteLayerUpload)            \
    X(CreateRepository)               \
    X(DeleteLifecyclePolicy)          \
    X(DeleteRepository)               \
    X(DeleteRepositoryPolicy)         \
    X(DescribeImages)                 \
    X(DescribeRepositories)           \
    X(GetAuthorizationToken)          \
    X(GetDownloadUrlForLayer)         \
    X(GetLifecyclePolicy)             \
    X(GetLifecyclePolicyPreview)      \
    X(GetRepositoryPolicy)            \
    X(InitiateLayerUpload)            \
    X(ListImages)                     \
    X(ListTagsForResource)            \
    X(PutImage)                       \
    X(PutImageTagMutability)          \
    X(PutLifecyclePolicy)             \
    X(SetRepositoryPolicy)            \
    X(StartLifecyclePolicyPreview)    \
    X(TagResource)                    \
    X(UntagResource)                  \
    X(UploadLayerPart)

#pragma GCC visibility push(hidden)
#define EM_DECLARE_HANDLER(name) int em_##name(em_call *c);
EM_ACTION_LIST(EM_DECLARE_HANDLER)
#undef EM_DECLARE_HANDLER
#pragma GCC visibility pop

#endif
