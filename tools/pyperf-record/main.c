#include <stdio.h>
#include <pyperf/data.h>
int main(void) { printf("%s\n", pyperf_version()); return 0; }
