/*
 * The actions ecrmock serves: one list, sorted by name, that declares the
 * handlers and builds the action table (actions.c).  Each handler lives
 * in the source file of its area of ECR:
 *   repositories.c       CreateRepository, DescribeRepositories, DeleteRepository
 *   layer_upload.c       InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload,
 *                        BatchCheckLayerAvailability
 *   layer_download.c     GetDownloadUrlForLayer
 *   images.c             PutImage, BatchGetImage, BatchDeleteImage, ListImages, DescribeImages
 *   auth_token.c         GetAuthorizationToken
 *   repository_policy.c  SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy
 *   resource_tags.c      TagResource, UntagResource, ListTagsForResource
 *   tag_mutability.c     PutImageTagMutability
 *   pull_through_cache.c CreatePullThroughCacheRule, DescribePullThroughCacheRules,
 *                        UpdatePullThroughCacheRule, DeletePullThroughCacheRule,
 *                        ValidatePullThroughCacheRule
 *   creation_templates.c CreateRepositoryCreationTemplate, DescribeRepositoryCreationTemplates,
 *                        UpdateRepositoryCreationTemplate, DeleteRepositoryCreationTemplate
 *   registry.c           DescribeRegistry, PutRegistryPolicy, GetRegistryPolicy, DeleteRegistryPolicy
 *   replication.c        PutReplicationConfiguration, DescribeImageReplicationStatus
 *   scanning.c           PutImageScanningConfiguration, BatchGetRepositoryScanningConfiguration,
 *                        GetRegistryScanningConfiguration, PutRegistryScanningConfiguration,
 *                        StartImageScan, DescribeImageScanFindings
 *   lifecycle.c          PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy,
 *                        StartLifecyclePolicyPreview, GetLifecyclePolicyPreview
 *   referrers.c          ListImageReferrers
 *   storage_class.c      UpdateImageStorageClass
 *   account_settings.c   GetAccountSetting, PutAccountSetting
 *   image_signing.c      PutSigningConfiguration, GetSigningConfiguration,
 *                        DeleteSigningConfiguration, DescribeImageSigningStatus
 *   pull_time_exclusions.c  RegisterPullTimeUpdateExclusion,
 *                        DeregisterPullTimeUpdateExclusion, ListPullTimeUpdateExclusions
 */
#ifndef ECRMOCK_ACTIONS_H
#define ECRMOCK_ACTIONS_H

#include "internal.h"

#define EM_ACTION_LIST(X)                      \
    X(BatchCheckLayerAvailability)             \
    X(BatchDeleteImage)                        \
    X(BatchGetImage)                           \
    X(BatchGetRepositoryScanningConfiguration) \
    X(CompleteLayerUpload)                     \
    X(CreatePullThroughCacheRule)              \
    X(CreateRepository)                        \
    X(CreateRepositoryCreationTemplate)        \
    X(DeleteLifecyclePolicy)                   \
    X(DeletePullThroughCacheRule)              \
    X(DeleteRegistryPolicy)                    \
    X(DeleteRepository)                        \
    X(DeleteRepositoryCreationTemplate)        \
    X(DeleteRepositoryPolicy)                  \
    X(DeleteSigningConfiguration)              \
    X(DeregisterPullTimeUpdateExclusion)       \
    X(DescribeImageReplicationStatus)          \
    X(DescribeImageScanFindings)               \
    X(DescribeImageSigningStatus)              \
    X(DescribeImages)                          \
    X(DescribePullThroughCacheRules)           \
    X(DescribeRegistry)                        \
    X(DescribeRepositories)                    \
    X(DescribeRepositoryCreationTemplates)     \
    X(GetAccountSetting)                       \
    X(GetAuthorizationToken)                   \
    X(GetDownloadUrlForLayer)                  \
    X(GetLifecyclePolicy)                      \
    X(GetLifecyclePolicyPreview)               \
    X(GetRegistryPolicy)                       \
    X(GetRegistryScanningConfiguration)        \
    X(GetRepositoryPolicy)                     \
    X(GetSigningConfiguration)                 \
    X(InitiateLayerUpload)                     \
    X(ListImageReferrers)                      \
    X(ListImages)                              \
    X(ListPullTimeUpdateExclusions)            \
    X(ListTagsForResource)                     \
    X(PutAccountSetting)                       \
    X(PutImage)                                \
    X(PutImageScanningConfiguration)           \
    X(PutImageTagMutability)                   \
    X(PutLifecyclePolicy)                      \
    X(PutRegistryPolicy)                       \
    X(PutRegistryScanningConfiguration)        \
    X(PutReplicationConfiguration)             \
    X(PutSigningConfiguration)                 \
    X(RegisterPullTimeUpdateExclusion)         \
    X(SetRepositoryPolicy)                     \
    X(StartImageScan)                          \
    X(StartLifecyclePolicyPreview)             \
    X(TagResource)                             \
    X(UntagResource)                           \
    X(UpdateImageStorageClass)                 \
    X(UpdatePullThroughCacheRule)              \
    X(UpdateRepositoryCreationTemplate)        \
    X(UploadLayerPart)                         \
    X(ValidatePullThroughCacheRule)

#pragma GCC visibility push(hidden)
#define EM_DECLARE_HANDLER(name) int em_##name(em_call *c);
EM_ACTION_LIST(EM_DECLARE_HANDLER)
#undef EM_DECLARE_HANDLER
#pragma GCC visibility pop

#endif
