/* wake: eventfd wake-ups of the loop (see wake.h). */
#include "core/wake.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/mem.h"

struct qg_wake {
    int fd;
    struct event *ev;
    void (*cb)(void *arg);
    void *arg;
};

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
    qg_wake *w = arg;
    uint64_t n;
    /* non-blocking: EAGAIN means another read got it first, still run */
    if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    w->cb(w->arg);
}

qg_wake *
qg_wake_new(struct event_base *base, void (*cb)(void *arg), void *arg)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        qg_err("cannot create an eventfd: %s", strerror(errno));
        abort();
    }
    qg_wake *w = qg_calloc(1, sizeof(*w));
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    w->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, w);
    event_add(w->ev, NULL);
    return w;
}

void
qg_wake_signal(qg_wake *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->fd, &one, sizeof(one));
    (void)r; /* EAGAIN only at 2^64-1 pending: the loop wakes anyway */
}

void
qg_wake_free(qg_wake *w)
{
    if (!w)
        return;
    event_free(w->ev);
    close(w->fd);
    free(w);
}
