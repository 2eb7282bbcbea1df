/* libFuzzer target for the network-file loader (make fuzz): any bytes
 * must load or be refused with one error, without crashing, leaking,
 * hanging or reading out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apical/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* apical_spec_load_string takes a C string: a NUL ends the text (the
     * file loader refuses NUL bytes itself, tested elsewhere) */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    apical_net_spec *spec = NULL;
    apical_error err;
    if (apical_spec_load_string("fuzz.yaml", text, &spec, &err) == APICAL_OK)
        apical_spec_free(spec);
    free(text);
    return 0;
}
