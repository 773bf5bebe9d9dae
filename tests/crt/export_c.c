/* TP_EXPORT in C: the records export_test.cpp reads back from the section. */
#include "threadprocs/tp.h"

long c_counter = 1;
static double c_table[16];
const int c_const_value = 3;
struct c_pair {
  int a, b;
} c_pair_value = {1, 2};

TP_EXPORT(c_counter);
TP_EXPORT(c_table);
TP_EXPORT(c_const_value);
TP_EXPORT(c_pair_value);

void* c_table_address(void) { return c_table; }
