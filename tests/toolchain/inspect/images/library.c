/* A shared library: no entry point, no DF_1_PIE. */
int library_answer(void) { return 42; }
