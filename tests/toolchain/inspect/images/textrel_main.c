long counter_address(void);
int main(void) { return counter_address() != 0 ? 0 : 1; }
