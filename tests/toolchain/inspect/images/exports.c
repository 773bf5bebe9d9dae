/* A program with two TP_EXPORT records, written out by hand as tp-link's
 * TP_EXPORT macro will (struct tp_export_record in section "tp_exports"). */
#include "threadprocs/abi.h"

int counter = 42;
char message[64] = "hello from a slot";

__attribute__((used, section("tp_exports"), aligned(8))) static const struct tp_export_record
    counter_record = {"counter", &counter, sizeof counter};
__attribute__((used, section("tp_exports"), aligned(8))) static const struct tp_export_record
    message_record = {"message", message, sizeof message};

int main(void) { return counter == 42 ? 0 : 1; }
