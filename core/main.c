#include <stdio.h>
int
main(void)
{
    puts("qgate " QGATE_VERSION);
    return 0;
}
