/* demo: the sample SQLite database `make run` starts with. */
#ifndef QG_EXEC_DEMO_H
#define QG_EXEC_DEMO_H

#include "core/err.h"

/* Creates the demo database at path unless a file is there already:
 * customers, products and orders with a few hundred rows of sample data
 * (the same rows every time). Built in a temporary file and renamed into
 * place, so a crash never leaves half a database. Main thread, at start. */
int exec_demo_ensure(const char *path, qg_error *err);

#endif
