/*
 * The ECR service model as C tables (generated into model_gen.c by
 * tools/gen_model.py).  Shapes are addressed by index; EM_SHAPE_<Name> in
 * model_ids.h names each one.
 */
#ifndef EM_MODEL_H
#define EM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "model_ids.h"

typedef enum em_type {
    EM_T_STRUCT,
    EM_T_LIST,
    EM_T_MAP,
    EM_T_STRING,
    EM_T_INTEGER,
    EM_T_LONG,
    EM_T_BOOLEAN,
    EM_T_TIMESTAMP,
    EM_T_BLOB,
    EM_T_DOUBLE
} em_type;

enum { EM_HAS_MIN = 1, EM_HAS_MAX = 2, EM_EXCEPTION = 4 };

typedef struct em_member {
    const char *name;
    int shape;
    bool required;
} em_member;

typedef struct em_shape {
    const char *name;
    em_type type;
    unsigned flags;
    int64_t min, max;          /* length for strings, blobs and lists; value for numbers */
    int pattern;               /* index into em_patterns, or -1 */
    const char *const *enums;
    int n_enums;
    const em_member *members;  /* structures */
    int n_members;
    int member;                /* list member, or map value */
    int key;                   /* map key */
} em_shape;

typedef struct em_operation {
    const char *name;
    int input, output;         /* shape indexes; output -1 when none */
    const char *const *errors; /* error shape names the model lists */
    int n_errors;
} em_operation;

extern const char *const em_patterns[EM_PATTERN_COUNT];
extern const em_shape em_shapes[EM_SHAPE_COUNT];
extern const em_operation em_operations[EM_OPERATION_COUNT];

#endif
