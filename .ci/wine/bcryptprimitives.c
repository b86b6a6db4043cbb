/*
 * The Go runtime on Windows draws randomness from ProcessPrng in
 * bcryptprimitives.dll, which every supported Windows has but Debian 12's
 * wine 8.0 does not. For the wine smoke test only, this stand-in forwards to
 * BCryptGenRandom, which wine does implement. It is never shipped.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  return BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
}
