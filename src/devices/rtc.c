/* MC146818 CMOS RTC: the date and time registers read the host's UTC clock, so the guest's date
 * is the host's. Writes to the time registers are kept as an offset (hwclock -w works); the other
 * 114 bytes are plain CMOS memory. No periodic or alarm interrupts. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "devices/devices.h"
#include "vm/vm.h"

enum {
	RTC_SEC = 0x00, RTC_MIN = 0x02, RTC_HOUR = 0x04, RTC_WDAY = 0x06, RTC_MDAY = 0x07,
	RTC_MON = 0x08, RTC_YEAR = 0x09, RTC_REG_A = 0x0A, RTC_REG_B = 0x0B, RTC_REG_C = 0x0C,
	RTC_REG_D = 0x0D, RTC_CENTURY = 0x32,
};
#define RTC_B_24H    0x02
#define RTC_B_BINARY 0x04
#define RTC_B_SET    0x80

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
	int64_t offset; /* seconds added to host time, from guest writes */
};

static uint8_t rtc_encode(const struct rtc *r, int v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int rtc_decode(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0xF);
}

static bool rtc_is_time_reg(uint8_t i)
{
	return i <= RTC_YEAR || i == RTC_CENTURY;
}

static struct tm rtc_now(const struct rtc *r)
{
	time_t t = time(NULL) + r->offset;
	struct tm tm;
	gmtime_r(&t, &tm);
	return tm;
}

static uint8_t rtc_time_reg(const struct rtc *r, uint8_t i)
{
	struct tm tm = rtc_now(r);
	switch (i) {
	case RTC_SEC: return rtc_encode(r, tm.tm_sec);
	case RTC_MIN: return rtc_encode(r, tm.tm_min);
	case RTC_HOUR:
		if (r->cmos[RTC_REG_B] & RTC_B_24H)
			return rtc_encode(r, tm.tm_hour);
		return (uint8_t)(rtc_encode(r, tm.tm_hour % 12 ? tm.tm_hour % 12 : 12) |
				 (tm.tm_hour >= 12 ? 0x80 : 0));
	case RTC_WDAY: return rtc_encode(r, tm.tm_wday + 1);
	case RTC_MDAY: return rtc_encode(r, tm.tm_mday);
	case RTC_MON: return rtc_encode(r, tm.tm_mon + 1);
	case RTC_YEAR: return rtc_encode(r, tm.tm_year % 100);
	case RTC_CENTURY: return rtc_encode(r, (tm.tm_year + 1900) / 100);
	default: return r->cmos[i];
	}
}

/* A write to one time field moves the clock so that this field reads the written value. */
static void rtc_set_time_reg(struct rtc *r, uint8_t i, uint8_t v)
{
	struct tm tm = rtc_now(r);
	int x = rtc_decode(r, v & (i == RTC_HOUR ? 0x7F : 0xFF));
	switch (i) {
	case RTC_SEC: tm.tm_sec = x; break;
	case RTC_MIN: tm.tm_min = x; break;
	case RTC_HOUR:
		if (!(r->cmos[RTC_REG_B] & RTC_B_24H))
			x = (x % 12) + ((v & 0x80) ? 12 : 0);
		tm.tm_hour = x;
		break;
	case RTC_MDAY: tm.tm_mday = x; break;
	case RTC_MON: tm.tm_mon = x - 1; break;
	case RTC_YEAR: tm.tm_year = (tm.tm_year / 100) * 100 + x; break;
	case RTC_CENTURY: tm.tm_year = (x * 100 + tm.tm_year % 100) - 1900; break;
	default: return;
	}
	time_t want = timegm(&tm);
	if (want != (time_t)-1)
		r->offset += want - (time(NULL) + r->offset);
}

static uint64_t rtc_read(void *dev, uint64_t off, unsigned len)
{
	struct rtc *r = dev;
	if (off == 0)
		return r->index;
	pthread_mutex_lock(&r->lock);
	uint8_t i = r->index & 0x7F, v;
	if (rtc_is_time_reg(i))
		v = rtc_time_reg(r, i);
	else if (i == RTC_REG_C)
		v = 0; /* no interrupt flags; reading clears them anyway */
	else
		v = r->cmos[i];
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void rtc_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct rtc *r = dev;
	uint8_t v = (uint8_t)value;
	pthread_mutex_lock(&r->lock);
	if (off == 0) {
		r->index = v; /* bit 7 masks NMIs on real hardware; nothing to mask here */
	} else {
		uint8_t i = r->index & 0x7F;
		if (rtc_is_time_reg(i))
			rtc_set_time_reg(r, i, v);
		else if (i == RTC_REG_A)
			r->cmos[i] = v & 0x7F; /* update-in-progress is never set */
		else if (i != RTC_REG_C && i != RTC_REG_D)
			r->cmos[i] = v;
	}
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

struct rtc *rtc_create(struct vm *vm, struct error *err)
{
	struct rtc *r = calloc(1, sizeof(*r));
	if (!r) {
		error_errno(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[RTC_REG_A] = 0x26;          /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;     /* BCD, 24-hour */
	r->cmos[RTC_REG_D] = 0x80;          /* valid RAM and time */
	if (bus_register(&vm->pio_bus, X86_RTC_PORT, 2, &rtc_ops, r, "rtc", err) < 0) {
		rtc_destroy(r);
		return NULL;
	}
	return r;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}
