/* MC146818 CMOS RTC: the date and time registers read the host's UTC clock, so the guest's date
 * is the host's. Writes to the time registers are kept as an offset (hwclock -w works); the other
 * 114 bytes are plain CMOS memory. No periodic or alarm interrupts. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "devices/devices.h"

enum {
	RTC_SEC = 0x00, RTC_MIN = 0x02, RTC_HOUR = 0x04, RTC_WDAY = 0x06, RTC_MDAY = 0x07,
	RTC_MON = 0x08, RTC_YEAR = 0x09, RTC_REG_A = 0x0A, RTC_REG_B = 0x0B, RTC_REG_C = 0x0C,
	RTC_REG_D = 0x0D, RTC_CENTURY = 0x32,
};
#define RTC_B_24H    0x02
#define RTC_B_BINARY 0x04
#define RTC_B_SET    0x80

/* The clock shows only dates from 1900-01-01 to 9999-12-31 (what a century register of two
 * BCD digits can say); whatever the host clock or guest writes, time is clamped into that range,
 * so no field computed from it can overflow and gmtime_r cannot fail. */
#define RTC_TIME_MIN (-2208988800LL)  /* 1900-01-01T00:00:00Z */
#define RTC_TIME_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

struct rtc {
	struct device dev;
	const struct vm_clock *clock;
	uint8_t index;
	uint8_t cmos[128];
	int64_t offset; /* seconds added to host time, from guest writes; within the range above */
};

/* v is a field of a valid date (0..9999); the register holds its last two digits in BCD, or
 * the low byte in binary mode. */
static uint8_t rtc_encode(const struct rtc *r, unsigned v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_BINARY)
		return (uint8_t)v;
	v %= 100;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned rtc_decode(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_BINARY)
		return v;
	return (v >> 4) * 10u + (v & 0xFu); /* bad BCD digits give values the range check refuses */
}

static bool rtc_is_time_reg(uint8_t i)
{
	return i <= RTC_YEAR || i == RTC_CENTURY;
}

static int64_t rtc_clamp(int64_t t)
{
	return t < RTC_TIME_MIN ? RTC_TIME_MIN : t > RTC_TIME_MAX ? RTC_TIME_MAX : t;
}

/* Host seconds, clamped, so that the offset arithmetic below cannot overflow. */
static int64_t rtc_host_seconds(const struct rtc *r)
{
	int64_t ns = vm_clock_ns(r->clock, CLOCK_REALTIME);
	int64_t s = ns / 1000000000;
	return s - (ns % 1000000000 < 0); /* floor, for times before 1970 */
}

/* The guest's time: host time plus the guest's offset, clamped into the RTC's range. */
static struct tm rtc_now(const struct rtc *r)
{
	int64_t host = rtc_clamp(rtc_host_seconds(r));
	time_t t = (time_t)rtc_clamp(host + r->offset);
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		/* Cannot happen within the range; never hand the guest uninitialised bytes anyway. */
		tm = (struct tm){ .tm_mday = 1, .tm_year = 70, .tm_wday = 4 };
	}
	return tm;
}

static uint8_t rtc_time_reg(const struct rtc *r, uint8_t i)
{
	struct tm tm = rtc_now(r);
	unsigned year = (unsigned)(tm.tm_year + 1900); /* 1900..9999 after the clamp */
	switch (i) {
	case RTC_SEC: return rtc_encode(r, (unsigned)tm.tm_sec);
	case RTC_MIN: return rtc_encode(r, (unsigned)tm.tm_min);
	case RTC_HOUR:
		if (r->cmos[RTC_REG_B] & RTC_B_24H)
			return rtc_encode(r, (unsigned)tm.tm_hour);
		return (uint8_t)(rtc_encode(r, tm.tm_hour % 12 ? (unsigned)tm.tm_hour % 12 : 12) |
				 (tm.tm_hour >= 12 ? 0x80 : 0));
	case RTC_WDAY: return rtc_encode(r, (unsigned)tm.tm_wday + 1);
	case RTC_MDAY: return rtc_encode(r, (unsigned)tm.tm_mday);
	case RTC_MON: return rtc_encode(r, (unsigned)tm.tm_mon + 1);
	case RTC_YEAR: return rtc_encode(r, year % 100);
	case RTC_CENTURY: return rtc_encode(r, year / 100);
	default: return r->cmos[i];
	}
}

/* A write to one time field moves the clock so that this field reads the written value. A
 * value outside the field's range (including bad BCD) is ignored, as is the weekday, which
 * follows from the date. */
static void rtc_set_time_reg(struct rtc *r, uint8_t i, uint8_t v)
{
	struct tm tm = rtc_now(r);
	unsigned x = rtc_decode(r, v & (i == RTC_HOUR ? 0x7F : 0xFF));
	unsigned year = (unsigned)(tm.tm_year + 1900);
	switch (i) {
	case RTC_SEC: if (x > 59) return; tm.tm_sec = (int)x; break;
	case RTC_MIN: if (x > 59) return; tm.tm_min = (int)x; break;
	case RTC_HOUR:
		if (!(r->cmos[RTC_REG_B] & RTC_B_24H)) {
			if (x < 1 || x > 12)
				return;
			x = (x % 12) + ((v & 0x80) ? 12 : 0);
		}
		if (x > 23)
			return;
		tm.tm_hour = (int)x;
		break;
	case RTC_MDAY: if (x < 1 || x > 31) return; tm.tm_mday = (int)x; break;
	case RTC_MON: if (x < 1 || x > 12) return; tm.tm_mon = (int)x - 1; break;
	case RTC_YEAR: if (x > 99) return; tm.tm_year = (int)((year / 100) * 100 + x) - 1900; break;
	case RTC_CENTURY:
		if (x < 19 || x > 99)
			return;
		tm.tm_year = (int)(x * 100 + year % 100) - 1900;
		break;
	default: return;
	}
	errno = 0;
	time_t want = timegm(&tm);
	if (want == (time_t)-1 && errno)
		return;
	/* Both terms are within about ±2.6e11, so neither this nor rtc_now's sum overflows. */
	r->offset = rtc_clamp((int64_t)want) - rtc_clamp(rtc_host_seconds(r));
}

static uint64_t rtc_read(void *dev, uint64_t off, unsigned len)
{
	struct rtc *r = dev;
	pthread_mutex_lock(&r->dev.lock);
	uint8_t i = r->index & 0x7F, v;
	if (off == 0)
		v = r->index;
	else if (rtc_is_time_reg(i))
		v = rtc_time_reg(r, i);
	else if (i == RTC_REG_C)
		v = 0; /* no interrupt flags; reading clears them anyway */
	else
		v = r->cmos[i];
	pthread_mutex_unlock(&r->dev.lock);
	return v;
}

static void rtc_write(void *dev, uint64_t off, unsigned len, uint64_t value)
{
	struct rtc *r = dev;
	uint8_t v = (uint8_t)value;
	pthread_mutex_lock(&r->dev.lock);
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
	pthread_mutex_unlock(&r->dev.lock);
}

static const struct bus_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

/* No reset: CMOS memory and the clock are battery-backed and survive a machine reset. */
static const struct device_ops rtc_device_ops = { .name = "rtc" };

struct rtc *rtc_create(const struct dev_services *svc, struct error *err)
{
	struct rtc *r = device_new(svc, sizeof(*r), &rtc_device_ops, err);
	if (!r)
		return NULL;
	r->clock = svc->clock;
	r->cmos[RTC_REG_A] = 0x26;          /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;     /* BCD, 24-hour */
	r->cmos[RTC_REG_D] = 0x80;          /* valid RAM and time */
	if (bus_register(svc->pio, X86_RTC_PORT, 2, &rtc_ops, r, "rtc", err) < 0)
		return NULL;
	return r;
}
