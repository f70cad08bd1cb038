/* csv_crew.c - the CSV reader's threads (see csv_crew.h). */
#include "frame/csv_crew.h"
#include "base/alloc.h"

#include <pthread.h>

typedef struct crew_slot {
    struct cl_csv_crew *c;
    int t;
    pthread_t id;
} crew_slot;

struct cl_csv_crew {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int n;                /* workers running */
    unsigned gen;         /* jobs posted so far: a worker runs each once */
    int busy;             /* workers still on the current job */
    int quit;
    void (*fn)(void *arg, int t);
    void *arg;
    crew_slot slot[63];
};

static void *crew_main(void *p)
{
    crew_slot *s = p;
    cl_csv_crew *c = s->c;
    unsigned seen = 0;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->gen == seen && !c->quit)
            pthread_cond_wait(&c->go, &c->mu);
        if (c->quit)
            break;
        seen = c->gen;
        void (*fn)(void *, int) = c->fn;
        void *arg = c->arg;
        pthread_mutex_unlock(&c->mu);
        fn(arg, s->t);
        pthread_mutex_lock(&c->mu);
        if (--c->busy == 0)
            pthread_cond_signal(&c->done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

cl_csv_crew *cl_csv_crew_start(int nt)
{
    cl_csv_crew *c = cl_alloc_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->mu, NULL)) {
        cl_alloc_free(c);
        return NULL;
    }
    pthread_cond_init(&c->go, NULL);
    pthread_cond_init(&c->done, NULL);
    int want = nt - 1 < 63 ? nt - 1 : 63;
    for (int t = 1; t <= want; t++) {
        crew_slot *s = &c->slot[c->n];
        s->c = c;
        s->t = t;
        if (pthread_create(&s->id, NULL, crew_main, s) != 0)
            break;
        c->n++;
    }
    return c;
}

void cl_csv_crew_stop(cl_csv_crew *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = 1;
    pthread_cond_broadcast(&c->go);
    pthread_mutex_unlock(&c->mu);
    for (int k = 0; k < c->n; k++)
        pthread_join(c->slot[k].id, NULL);
    pthread_cond_destroy(&c->go);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    cl_alloc_free(c);
}

int cl_csv_crew_members(const cl_csv_crew *c)
{
    return c ? c->n + 1 : 1;
}

void cl_csv_crew_run(cl_csv_crew *c, void (*fn)(void *, int), void *arg)
{
    if (!c || c->n == 0) {
        fn(arg, 0);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->fn = fn;
    c->arg = arg;
    c->busy = c->n;
    c->gen++;
    pthread_cond_broadcast(&c->go);
    pthread_mutex_unlock(&c->mu);
    fn(arg, 0);
    pthread_mutex_lock(&c->mu);
    while (c->busy)
        pthread_cond_wait(&c->done, &c->mu);
    pthread_mutex_unlock(&c->mu);
}
