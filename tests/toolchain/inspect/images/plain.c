/* An ordinary program: nothing Threadprocs-specific. */
int main(void) { return 0; }
