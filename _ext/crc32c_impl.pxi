# CRC-32C (Castagnoli): SSE4.2 instruction when the CPU has it, else a table-driven loop.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from * nogil:
    """
    #include <string.h>
    #include <stdint.h>
    static uint32_t zf_crc32c_table[256];
    static int zf_crc32c_hw_ok = -1;
    static void zf_crc32c_init(void) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            zf_crc32c_table[i] = c;
        }
    #if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        zf_crc32c_hw_ok = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    #else
        zf_crc32c_hw_ok = 0;
    #endif
    }
    #if defined(__x86_64__)
    __attribute__((target("sse4.2")))
    static uint32_t zf_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
        uint64_t c = crc;
        while (n >= 8) { uint64_t v; memcpy(&v, p, 8); c = __builtin_ia32_crc32di(c, v); p += 8; n -= 8; }
        uint32_t c32 = (uint32_t)c;
        while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
        return c32;
    }
    #endif
    static uint32_t zf_crc32c_sw(uint32_t crc, const uint8_t *p, size_t n) {
        while (n--) crc = zf_crc32c_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
        return crc;
    }
    /* Standard CRC-32C of a buffer (initial value and final xor 0xFFFFFFFF). */
    static uint32_t zf_crc32c(const uint8_t *p, size_t n) {
    #if defined(__x86_64__)
        if (zf_crc32c_hw_ok == 1) return ~zf_crc32c_hw(0xFFFFFFFFu, p, n);
    #endif
        return ~zf_crc32c_sw(0xFFFFFFFFu, p, n);
    }
    static uint32_t zf_crc32c_sw_only(const uint8_t *p, size_t n) { return ~zf_crc32c_sw(0xFFFFFFFFu, p, n); }
    """
    void zf_crc32c_init()
    uint32_t zf_crc32c(const uint8_t* p, size_t n)
    uint32_t zf_crc32c_sw_only(const uint8_t* p, size_t n)

zf_crc32c_init()
