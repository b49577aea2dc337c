/*
 * stubs.c: the stubs every unit test links (UNIT_COMMON). Deliberately
 * empty of definitions: each binary links different real objects, so a
 * stub here would clash with the real one somewhere. A test that needs a
 * stand-in for vm.c or console.c links stubs_vm.c or stubs_console.c,
 * whose stubs record what the code under test asked for.
 */

/* ISO C wants at least one declaration in a translation unit. */
extern const int unit_stubs_none;
