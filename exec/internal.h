/*
 * internal: what exec/'s files share and nothing above them uses (the
 * layering check keeps exec__ names inside the folder; unit tests may use
 * them): the backends themselves, which the rest of qgate finds only
 * through exec_backend_for, and the engine limits they apply.
 */
#ifndef QG_EXEC_INTERNAL_H
#define QG_EXEC_INTERNAL_H

#include "exec/backend.h"

/* The embedded database (exec/sqlite.c) and PostgreSQL (exec/postgres.c,
 * with its pgsql_* modules). */
extern const exec_backend exec__sqlite;
extern const exec_backend exec__postgres;

/* What exec_backends_init set (the defaults before it). Any thread. */
const exec_limits *exec__limits(void);

#endif
