/*
 * End-to-end guest client: drives a capset-8 (hsakmt native context) virtio-gpu device the way
 * ROCm's virtio libhsakmt does (PROTOCOL.md §1.1, §2.6), from a bare initramfs, and reports each step
 * on stdout as one line:
 *     @@vhsakmt <tag> PASS <step> [key=value ...]
 *     @@vhsakmt <tag> FAIL <step> <reason>
 *     @@vhsakmt <tag> DONE pass=<n> fail=<n>
 * The host-side test parses these lines (the "@@vhsakmt" marker survives interleaved kernel output).
 * The chain stops at the first failing step that later steps depend on. Every wait has a timeout, so
 * the client always reaches DONE.
 *
 * usage: vhsakmt-guest <tag> [hold-seconds] [crash-after-step]
 * hold-seconds: how long to keep every object alive after the last step (default 3), so the host test
 * can read the pattern buffer in the daemon's KFD memory before the guest releases it.
 * crash-after-step: SIGKILL itself right after that step passed and the hold (a crashed ROCm process),
 * so the host test can check that the daemon releases everything the process held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/virtgpu_drm.h>

#include "vhsakmt_wire.h"

#define PAGE 4096u
#define WAIT_MS 10000 /* per ccmd: fence + seqno; TCG is slow, a healthy host answers in ms */

static const char *tag = "c0";
static const char *crash_after;
static unsigned hold = 3;
static int npass, nfail;

static void vreport(const char *verdict, const char *step, const char *fmt, va_list ap)
{
    char line[512];
    int n = snprintf(line, sizeof line, "@@vhsakmt %s %s %s", tag, verdict, step);
    if (fmt && n < (int)sizeof line - 2) {
        line[n++] = ' ';
        n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    }
    if (n > (int)sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    /* one write per line so two clients on one console do not interleave inside a line */
    if (write(STDOUT_FILENO, line, n) < 0)
        _exit(3);
}

static void report(const char *verdict, const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(verdict, step, fmt, ap);
    va_end(ap);
}

/* PASS yields 1 and FAIL 0, so a check can be written `ok = cond ? PASS(..) : FAIL(..)`. */
__attribute__((format(printf, 2, 3))) static int PASS(const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    npass++;
    vreport("PASS", step, fmt, ap);
    va_end(ap);
    if (crash_after && strcmp(step, crash_after) == 0) {
        /* hold first, like the normal end, so the host test can see the objects alive before the crash */
        report("INFO", "crash", "after=%s hold=%u", step, hold);
        sleep(hold);
        kill(getpid(), SIGKILL);
    }
    return 1;
}

__attribute__((format(printf, 2, 3))) static int FAIL(const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nfail++;
    vreport("FAIL", step, fmt, ap);
    va_end(ap);
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- device ------------------------------------------------------------------------------------ */

struct dev {
    int fd;
    char path[64];
    uint8_t *shmem;
    uint64_t shmem_size;
    uint32_t seqno;
    uint32_t rsp_next; /* bump pointer in the response area (§3.4) */
    uint64_t vm_start, vm_size;
};

static int open_render_node(struct dev *d)
{
    for (int i = 128; i < 136; i++) {
        snprintf(d->path, sizeof d->path, "/dev/dri/renderD%d", i);
        d->fd = open(d->path, O_RDWR | O_CLOEXEC);
        if (d->fd >= 0)
            return 1;
    }
    return 0;
}

static int getparam(struct dev *d, uint64_t param, uint64_t *value)
{
    int v = 0;
    struct drm_virtgpu_getparam gp = { .param = param, .value = (uint64_t)(uintptr_t)&v };
    if (ioctl(d->fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp) != 0)
        return -errno;
    *value = (uint32_t)v;
    return 0;
}

/* Creates a HOST3D blob; returns the GEM handle and the resource id (= the host's res_id). */
static int create_blob(struct dev *d, uint32_t flags, uint64_t size, uint64_t blob_id, uint32_t *bo, uint32_t *res)
{
    struct drm_virtgpu_resource_create_blob cb = {
        .blob_mem = VIRTGPU_BLOB_MEM_HOST3D, .blob_flags = flags, .size = size, .blob_id = blob_id,
    };
    if (ioctl(d->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, &cb) != 0)
        return -errno;
    *bo = cb.bo_handle;
    *res = cb.res_handle;
    return 0;
}

/* Maps a mappable blob: at `at` with MAP_FIXED_NOREPLACE when `replace` is 0, MAP_FIXED when 1
 * (over our own PROT_NONE reservation), anywhere when `at` is NULL. */
static void *map_blob(struct dev *d, uint32_t bo, uint64_t size, void *at, int replace, int *err)
{
    struct drm_virtgpu_map m = { .handle = bo };
    if (ioctl(d->fd, DRM_IOCTL_VIRTGPU_MAP, &m) != 0) {
        *err = -errno;
        return NULL;
    }
    int flags = MAP_SHARED | (at ? (replace ? MAP_FIXED : MAP_FIXED_NOREPLACE) : 0);
    void *p = mmap(at, size, PROT_READ | PROT_WRITE, flags, d->fd, (off_t)m.offset);
    if (p == MAP_FAILED) {
        *err = -errno;
        return NULL;
    }
    if (at && p != at) {
        munmap(p, size);
        *err = -EADDRNOTAVAIL;
        return NULL;
    }
    return p;
}

static void gem_close(struct dev *d, uint32_t bo)
{
    struct drm_gem_close c = { .handle = bo };
    ioctl(d->fd, DRM_IOCTL_GEM_CLOSE, &c);
}

/*
 * One synchronous ccmd round trip (§3.4): reserve a response slot and pre-write its len, send the
 * ccmd in a ring-0 EXECBUFFER with an out-fence, wait for the fence, spin on seqno, copy the response.
 * Returns 0 or a negative errno / -ETIMEDOUT; *ret gets the ccmd's ret.
 */
static int ccmd(struct dev *d, void *req, uint32_t req_len, void *rsp, uint32_t rsp_len, char *why, size_t whylen)
{
    struct vk_ccmd_req *h = req;
    uint32_t area = (uint32_t)(d->shmem_size - ((struct vk_shmem *)d->shmem)->rsp_mem_offset);
    uint32_t slot_len = (rsp_len + 7) & ~7u;
    if (d->rsp_next + slot_len >= area)
        d->rsp_next = 0;
    uint8_t *rsp_area = d->shmem + ((struct vk_shmem *)d->shmem)->rsp_mem_offset;
    uint8_t *slot = rsp_area + d->rsp_next;
    memset(slot, 0xA5, slot_len); /* stale bytes the host must overwrite or zero (§3.6) */
    ((struct vk_ccmd_rsp *)slot)->len = slot_len;
    h->len = req_len;
    h->seqno = ++d->seqno;
    h->rsp_off = d->rsp_next;
    d->rsp_next += slot_len;

    struct drm_virtgpu_execbuffer eb = {
        .flags = VIRTGPU_EXECBUF_FENCE_FD_OUT | VIRTGPU_EXECBUF_RING_IDX,
        .size = req_len,
        .command = (uint64_t)(uintptr_t)req,
        .fence_fd = -1,
        .ring_idx = 0,
    };
    if (ioctl(d->fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb) != 0) {
        int e = errno;
        snprintf(why, whylen, "execbuffer errno=%d(%s)", e, strerror(e));
        return -e;
    }
    struct pollfd pfd = { .fd = eb.fence_fd, .events = POLLIN };
    int pr = poll(&pfd, 1, WAIT_MS);
    close(eb.fence_fd);
    if (pr <= 0) {
        snprintf(why, whylen, "fence not signalled within %d ms (seqno %u)", WAIT_MS, h->seqno);
        return -ETIMEDOUT;
    }
    volatile uint32_t *seq = &((struct vk_shmem *)d->shmem)->seqno;
    uint64_t deadline = now_ms() + WAIT_MS;
    while ((int32_t)(*seq - h->seqno) < 0) {
        if (now_ms() > deadline) {
            snprintf(why, whylen, "seqno stuck at %u, want %u", *seq, h->seqno);
            return -ETIMEDOUT;
        }
        sched_yield();
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(rsp, slot, rsp_len);
    uint32_t got = ((struct vk_ccmd_rsp *)rsp)->len;
    if (got < 8 || got > slot_len) {
        snprintf(why, whylen, "response len %u (reserved %u)", got, slot_len);
        return -EPROTO;
    }
    return 0;
}

static uint32_t rd32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }

/* --- the pattern the host-side test looks for in the daemon's KFD memory ------------------------- */

static uint64_t seed_of(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a: the test computes the same from the tag */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}
static uint64_t pattern_word(uint64_t seed, uint64_t i) { return seed ^ (i * 0x9E3779B97F4A7C15ull); }

/* --- steps ------------------------------------------------------------------------------------- */

static int query(struct dev *d, uint32_t type, uint64_t arg, struct vk_query_rsp *rsp, char *why, size_t wl)
{
    struct vk_query_req q = { .hdr.cmd = VK_CCMD_QUERY_INFO, .type = type, .arg = arg };
    int r = ccmd(d, &q, sizeof q, rsp, sizeof *rsp, why, wl);
    if (r == 0 && rsp->hdr.ret != 0) {
        snprintf(why, wl, "ret=%d", rsp->hdr.ret);
        return -EIO;
    }
    return r;
}

struct alloc {
    uint64_t va, size;
    uint32_t bo, res;
    void *map;
};

/* MEMORY/ALLOC with HostAccess, then its mappable blob mapped MAP_FIXED at the returned VA (§2.6). */
static int alloc_mapped(struct dev *d, uint32_t node, uint64_t size, uint64_t blob_id, struct alloc *a, char *why, size_t wl)
{
    struct vk_memory_req m = { .hdr.cmd = VK_CCMD_MEMORY, .type = VK_M_ALLOC, .blob_id = blob_id };
    m.u.alloc.PreferredNode = node;
    m.u.alloc.MemFlags = VK_MEMFLAG_HOST_ACCESS;
    m.u.alloc.SizeInBytes = size;
    struct vk_memory_rsp rsp;
    int r = ccmd(d, &m, sizeof m, &rsp, sizeof rsp, why, wl);
    if (r)
        return r;
    if (rsp.hdr.ret != 0) {
        snprintf(why, wl, "alloc ret=%d", rsp.hdr.ret);
        return -EIO;
    }
    a->va = rsp.memory_handle;
    a->size = size;
    if (a->va < d->vm_start || a->va + size > d->vm_start + d->vm_size) {
        snprintf(why, wl, "va=0x%llx outside the VM area", (unsigned long long)a->va);
        return -ERANGE;
    }
    r = create_blob(d, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, size, blob_id, &a->bo, &a->res);
    if (r) {
        snprintf(why, wl, "create_blob(blob_id %llu) errno=%d(%s)", (unsigned long long)blob_id, -r, strerror(-r));
        return r;
    }
    a->map = map_blob(d, a->bo, size, (void *)(uintptr_t)a->va, 1, &r);
    if (!a->map) {
        snprintf(why, wl, "map at 0x%llx errno=%d(%s)", (unsigned long long)a->va, -r, strerror(-r));
        return r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        tag = argv[1];
    if (argc > 2)
        hold = (unsigned)atoi(argv[2]);
    if (argc > 3 && argv[3][0])
        crash_after = argv[3];
    char why[256] = "";
    struct dev d = { .fd = -1 };
    int r;
    uint64_t v = 0;

    if (!open_render_node(&d)) {
        FAIL("open", "no /dev/dri/renderD* (errno=%d %s)", errno, strerror(errno));
        goto done;
    }
    PASS("open", "node=%s", d.path);

    /* GETPARAMs: report every one, then stop if a required one is missing. */
    static const struct { uint64_t p; const char *name; } params[] = {
        { VIRTGPU_PARAM_3D_FEATURES, "param_3d_features" },
        { VIRTGPU_PARAM_RESOURCE_BLOB, "param_resource_blob" },
        { VIRTGPU_PARAM_HOST_VISIBLE, "param_host_visible" },
        { VIRTGPU_PARAM_CONTEXT_INIT, "param_context_init" },
    };
    int params_ok = 1;
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        r = getparam(&d, params[i].p, &v);
        if (r == 0 && v)
            PASS(params[i].name, "value=%llu", (unsigned long long)v);
        else
            params_ok = FAIL(params[i].name, r ? "errno=%d" : "value=0", -r);
    }
    r = getparam(&d, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs, &v);
    if (r == 0 && (v & (1ull << VK_CAPSET_HSAKMT)))
        PASS("param_capset_ids", "mask=0x%llx", (unsigned long long)v);
    else
        params_ok = FAIL("param_capset_ids", "mask=0x%llx errno=%d (bit 8 missing)", (unsigned long long)v, -r);
    (void)params_ok; /* the chain goes on: the ioctls below report the precise reason */

    struct vk_capset caps = { 0 };
    struct drm_virtgpu_get_caps gc = { .cap_set_id = VK_CAPSET_HSAKMT, .cap_set_ver = 0,
                                       .addr = (uint64_t)(uintptr_t)&caps, .size = sizeof caps };
    if (ioctl(d.fd, DRM_IOCTL_VIRTGPU_GET_CAPS, &gc) != 0) {
        FAIL("get_caps", "errno=%d(%s)", errno, strerror(errno));
        goto done;
    }
    if (caps.context_type != VK_CONTEXT_TYPE_AMDGPU) {
        FAIL("get_caps", "context_type=%u, want 1", caps.context_type);
        goto done;
    }
    PASS("get_caps", "kfd_version=%u.%u context_type=%u", caps.version_major, caps.version_minor, caps.context_type);

    struct drm_virtgpu_context_set_param cp[] = {
        { VIRTGPU_CONTEXT_PARAM_CAPSET_ID, VK_CAPSET_HSAKMT },
        { VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 64 },
    };
    struct drm_virtgpu_context_init ci = { .num_params = 2, .ctx_set_params = (uint64_t)(uintptr_t)cp };
    if (ioctl(d.fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci) != 0) {
        FAIL("context_init", "errno=%d(%s)", errno, strerror(errno));
        goto done;
    }
    PASS("context_init", "capset=8 rings=64");

    uint32_t shm_bo, shm_res;
    d.shmem_size = VK_SHMEM_PAGES * PAGE;
    r = create_blob(&d, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, d.shmem_size, 0, &shm_bo, &shm_res);
    if (r) {
        FAIL("shmem", "create_blob errno=%d(%s)", -r, strerror(-r));
        goto done;
    }
    d.shmem = map_blob(&d, shm_bo, d.shmem_size, NULL, 0, &r);
    if (!d.shmem) {
        FAIL("shmem", "map errno=%d(%s)", -r, strerror(-r));
        goto done;
    }
    uint32_t rsp_off = ((struct vk_shmem *)d.shmem)->rsp_mem_offset;
    if (rsp_off < 16 || rsp_off % 8 || rsp_off >= d.shmem_size) {
        FAIL("shmem", "rsp_mem_offset=%u", rsp_off);
        goto done;
    }
    PASS("shmem", "res_id=%u rsp_mem_offset=%u", shm_res, rsp_off);

    /* OPEN_KFD with G-new's hint: a freshly freed heap block (§6.2). */
    void *hint_block = malloc(PAGE);
    uint64_t hint = (uint64_t)(uintptr_t)hint_block;
    free(hint_block);
    struct vk_query_rsp q;
    if (query(&d, VK_Q_OPEN_KFD, hint, &q, why, sizeof why)) {
        FAIL("open_kfd", "%s", why);
        goto done;
    }
    d.vm_start = q.u.open_kfd.vm_start;
    d.vm_size = q.u.open_kfd.vm_size;
    if (!d.vm_start || !d.vm_size) {
        FAIL("open_kfd", "vm_start=0x%llx vm_size=0x%llx", (unsigned long long)d.vm_start, (unsigned long long)d.vm_size);
        goto done;
    }
    PASS("open_kfd", "vm_start=0x%llx vm_size=0x%llx", (unsigned long long)d.vm_start, (unsigned long long)d.vm_size);

    void *vm = mmap((void *)(uintptr_t)d.vm_start, d.vm_size, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (vm == MAP_FAILED || vm != (void *)(uintptr_t)d.vm_start) {
        FAIL("reserve_vm", "mmap errno=%d(%s)", errno, strerror(errno));
        goto done;
    }
    PASS("reserve_vm", NULL);

    if (query(&d, VK_Q_GET_SYS_PROP, 0, &q, why, sizeof why)) {
        FAIL("get_sys_prop", "%s", why);
        goto done;
    }
    uint32_t nodes = q.u.sys_props.NumNodes;
    if (nodes == 0 || nodes > 64) {
        FAIL("get_sys_prop", "NumNodes=%u", nodes);
        goto done;
    }
    PASS("get_sys_prop", "nodes=%u", nodes);

    int gpu_node = -1;
    for (uint32_t n = 0; n < nodes; n++) {
        char step[32];
        snprintf(step, sizeof step, "get_node_prop_%u", n);
        if (query(&d, VK_Q_GET_NODE_PROP, n, &q, why, sizeof why)) {
            FAIL(step, "%s", why);
            goto done;
        }
        uint32_t simds = rd32(q.u.node_props, VK_NODE_NumFComputeCores);
        if (simds && gpu_node < 0)
            gpu_node = (int)n;
        PASS(step, "cpu_cores=%u simds=%u gpu_id=%u", rd32(q.u.node_props, VK_NODE_NumCPUCores), simds,
             rd32(q.u.node_props, VK_NODE_KFDGpuID));
    }
    if (gpu_node < 0) {
        FAIL("find_gpu_node", "no node with compute cores");
        goto done;
    }

    /* A host-accessible buffer, mapped at its host VA; the pattern is checked by the host test. */
    struct alloc buf;
    if (alloc_mapped(&d, 0, 2 * PAGE, 2, &buf, why, sizeof why)) {
        FAIL("alloc", "%s", why);
        goto done;
    }
    PASS("alloc", "va=0x%llx size=%llu res_id=%u", (unsigned long long)buf.va, (unsigned long long)buf.size, buf.res);

    uint64_t seed = seed_of(tag);
    volatile uint64_t *w = buf.map;
    for (uint64_t i = 0; i < buf.size / 8; i++)
        w[i] = pattern_word(seed, i);
    for (uint64_t i = 0; i < buf.size / 8; i++) {
        if (w[i] != pattern_word(seed, i)) {
            FAIL("write_pattern", "readback mismatch at word %llu", (unsigned long long)i);
            goto done;
        }
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    PASS("write_pattern", "va=0x%llx size=%llu seed=0x%016llx", (unsigned long long)buf.va,
         (unsigned long long)buf.size, (unsigned long long)seed);

    /* AQL queue (§4.5): ring memory + r/w-pointer memory, then CREATE with a doorbell blob id. */
    struct alloc ring, rwp;
    const uint64_t ring_size = 16 * PAGE;
    if (alloc_mapped(&d, 0, ring_size, 3, &ring, why, sizeof why)) {
        FAIL("queue_ring_alloc", "%s", why);
        goto done;
    }
    if (alloc_mapped(&d, 0, PAGE, 4, &rwp, why, sizeof why)) {
        FAIL("queue_rwptr_alloc", "%s", why);
        goto done;
    }
    PASS("queue_memory", "ring=0x%llx rwptr=0x%llx", (unsigned long long)ring.va, (unsigned long long)rwp.va);

    struct vk_queue_req qr = { .hdr.cmd = VK_CCMD_QUEUE, .type = VK_QU_CREATE, .blob_id = 5, .doorbell_blob_id = 6,
                               .res_id = rwp.res, .queue_mem_res_id = ring.res };
    qr.u.create.NodeId = (uint32_t)gpu_node;
    qr.u.create.Type = VK_QUEUE_TYPE_COMPUTE_AQL;
    qr.u.create.QueuePercentage = 100;
    qr.u.create.Priority = 0;
    qr.u.create.SdmaEngineId = 0xFFFFFFFFu;
    qr.u.create.QueueAddress = ring.va;
    qr.u.create.QueueSizeInBytes = ring_size;
    qr.u.create.Queue_write_ptr_aql = rwp.va + 0x38;
    qr.u.create.Queue_read_ptr_aql = rwp.va + 0x80;
    struct vk_queue_rsp qrsp;
    r = ccmd(&d, &qr, sizeof qr, &qrsp, sizeof qrsp, why, sizeof why);
    if (r || qrsp.hdr.ret != 0) {
        FAIL("queue_create", "%s", r ? why : (snprintf(why, sizeof why, "ret=%d", qrsp.hdr.ret), why));
        goto done;
    }
    uint64_t db = qrsp.vqueue_res.host_doorbell, db_off = qrsp.vqueue_res.host_doorbell_offset;
    if (qrsp.vqueue_res.QueueId == 0 || db == 0 || db_off >= 0x2000 || ((db - db_off) & (PAGE - 1))) {
        FAIL("queue_create", "queue_id=0x%llx doorbell=0x%llx offset=0x%llx", (unsigned long long)qrsp.vqueue_res.QueueId,
             (unsigned long long)db, (unsigned long long)db_off);
        goto done;
    }
    PASS("queue_create", "queue_id=0x%llx doorbell=0x%llx offset=0x%llx", (unsigned long long)qrsp.vqueue_res.QueueId,
         (unsigned long long)db, (unsigned long long)db_off);

    uint32_t db_bo, db_res, q_bo, q_res;
    r = create_blob(&d, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0x2000, 6, &db_bo, &db_res);
    void *dbmap = r ? NULL : map_blob(&d, db_bo, 0x2000, (void *)(uintptr_t)(db - db_off), 0, &r);
    if (!dbmap) {
        FAIL("doorbell_map", "errno=%d(%s) at 0x%llx", -r, strerror(-r), (unsigned long long)(db - db_off));
        goto done;
    }
    PASS("doorbell_map", "page=0x%llx res_id=%u", (unsigned long long)(db - db_off), db_res);

    r = create_blob(&d, 0, ring_size, 5, &q_bo, &q_res);
    if (r) {
        FAIL("queue_blob", "errno=%d(%s)", -r, strerror(-r));
        goto done;
    }
    PASS("queue_blob", "res_id=%u", q_res);

    /* Destroy the way G-new does: close the queue's GEM handle (DETACH + UNREF on the host). Then a
     * round trip proves the context still answers after the host tore the queue down. */
    gem_close(&d, q_bo);
    if (query(&d, VK_Q_GET_SYS_PROP, 0, &q, why, sizeof why)) {
        FAIL("queue_destroy", "context dead after queue close: %s", why);
        goto done;
    }
    PASS("queue_destroy", "res_id=%u", q_res);

    report("HOLD", "objects", "seconds=%u", hold);
    sleep(hold);

    munmap(dbmap, 0x2000);
    gem_close(&d, db_bo);
    munmap(ring.map, ring.size);
    munmap(rwp.map, rwp.size);
    gem_close(&d, ring.bo);
    gem_close(&d, rwp.bo);
    munmap(buf.map, buf.size);
    gem_close(&d, buf.bo);
    munmap(d.shmem, d.shmem_size);
    gem_close(&d, shm_bo);
    munmap(vm, d.vm_size);
    if (close(d.fd) != 0)
        FAIL("close", "errno=%d", errno);
    else
        PASS("close", NULL);
    d.fd = -1;

done:
    if (d.fd >= 0)
        close(d.fd);
    char line[128];
    int n = snprintf(line, sizeof line, "@@vhsakmt %s DONE pass=%d fail=%d\n", tag, npass, nfail);
    if (write(STDOUT_FILENO, line, n) < 0)
        return 3;
    return nfail ? 1 : 0;
}
