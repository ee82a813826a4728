/*
 * PSTATS_API and PYMARSHAL_API mark the functions that libpstats and
 * libpymarshal export. The libraries are compiled with -fvisibility=hidden,
 * so libpstats.so and libpymarshal.so export these functions and nothing
 * else (lib/libpstats.symbols and lib/libpymarshal.symbols list them; a
 * test compares). The static libraries are compiled with
 * PSTATS_STATIC_BUILD defined, which hides their functions too: a program
 * or plugin that links them keeps them to itself instead of exporting them
 * in turn. A program using the libraries defines nothing.
 */
#ifndef PSTATS_EXPORT_H
#define PSTATS_EXPORT_H

#if (defined(__GNUC__) || defined(__clang__)) && !defined(PSTATS_STATIC_BUILD)
#define PSTATS_API __attribute__((visibility("default")))
#define PYMARSHAL_API __attribute__((visibility("default")))
#else
#define PSTATS_API
#define PYMARSHAL_API
#endif

#endif
