/* Compiled by CLI/compile-output.test with cc -std=c99 and c++: the
   generated header must be self-contained and warning-free in both. */
#include "iris.h"
#include "iris.h" /* include guard */

int use_header(void);
int use_header(void) { return 0; }
