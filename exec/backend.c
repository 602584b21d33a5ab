/* backend: choosing the backend for a --backend URI (see backend.h). */
#include "exec/backend.h"

#include <string.h>

const exec_backend *
exec_backend_for(const char *uri)
{
    if (strncmp(uri, "sqlite:", 7) == 0)
        return &be_sqlite;
    return NULL;
}
