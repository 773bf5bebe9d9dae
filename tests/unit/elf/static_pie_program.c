/* The smallest static PIE: real_files_test.cpp reads it to check the reader
 * on what the toolchain actually produces (gcc puts no PT_PHDR in it). */
int main(void) { return 0; }
