/*
 * The hsakmt native-context wire format (capset 8) as far as the end-to-end guest client uses it.
 * Written from the project's shared spec PROTOCOL.md (§2.4 capset, §3 framing, §4.2 QUERY_INFO,
 * §4.4 MEMORY, §4.5 QUEUE; profile H25). Only the fields the client fills or reads are named; the
 * rest of each struct is reserved bytes, and every named offset is checked at compile time against
 * the tables of the spec, so a wrong offset fails the build instead of the test.
 */
#ifndef VHSAKMT_WIRE_H
#define VHSAKMT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define VK_CHECK(type, field, off) _Static_assert(offsetof(type, field) == (off), #type "." #field)
#define VK_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof " #type)

/* Capset 8 (§2.4, virgl_renderer_capset_hsakmt). */
#define VK_CAPSET_HSAKMT 8
#define VK_CONTEXT_TYPE_AMDGPU 1
struct vk_capset {
    uint32_t wire_format_version;
    uint32_t version_major;
    uint32_t version_minor;
    uint32_t version_patchlevel;
    uint32_t context_type;
    uint32_t pad;
};
VK_SIZE(struct vk_capset, 24);

/* Shared memory page (§3.1). */
struct vk_shmem {
    uint32_t seqno;
    uint32_t rsp_mem_offset;
    uint32_t async_error;
    uint32_t global_faults;
};
VK_SIZE(struct vk_shmem, 16);
#define VK_SHMEM_PAGES 80 /* the newest rocm-systems guest's size (§2.7) */

/* ccmd header (§3.2) and the common response start (len, ret). */
enum vk_ccmd { VK_CCMD_NOP = 1, VK_CCMD_QUERY_INFO = 2, VK_CCMD_EVENT = 3, VK_CCMD_MEMORY = 4, VK_CCMD_QUEUE = 5 };
struct vk_ccmd_req {
    uint32_t cmd;
    uint32_t len;
    uint32_t seqno;
    uint32_t rsp_off;
};
VK_SIZE(struct vk_ccmd_req, 16);

struct vk_ccmd_rsp {
    uint32_t len;
    int32_t ret;
};

/* QUERY_INFO (§4.2). */
enum vk_query { VK_Q_GPU_INFO = 0, VK_Q_OPEN_KFD = 1, VK_Q_GET_VER = 2, VK_Q_GET_SYS_PROP = 4, VK_Q_GET_NODE_PROP = 5 };
struct vk_query_req {
    struct vk_ccmd_req hdr;
    uint8_t info[32];
    uint32_t type;
    uint32_t pad;
    uint64_t arg; /* cur_vm_start (OPEN_KFD) or NodeID in the low 32 bits */
    uint8_t reserved[64];
};
VK_SIZE(struct vk_query_req, 128);
VK_CHECK(struct vk_query_req, type, 48);
VK_CHECK(struct vk_query_req, arg, 56);

#define VK_NODE_PROPS_SIZE 368 /* HsaNodeProperties, profile H25 */
struct vk_query_rsp {
    struct vk_ccmd_rsp hdr;
    union {
        struct { uint64_t vm_start, vm_size; } open_kfd;
        struct { uint32_t major, minor; } version;
        struct { uint32_t NumNodes, PlatformOem, PlatformId, PlatformRev; } sys_props;
        uint8_t node_props[VK_NODE_PROPS_SIZE];
        uint8_t raw[416];
    } u;
};
VK_SIZE(struct vk_query_rsp, 424);
VK_CHECK(struct vk_query_rsp, u.open_kfd.vm_size, 16);
/* HsaNodeProperties fields read by the client (pack(4) layout, so read by offset). */
#define VK_NODE_NumCPUCores 0
#define VK_NODE_NumFComputeCores 4
#define VK_NODE_EngineId 76
#define VK_NODE_DeviceId 86
#define VK_NODE_KFDGpuID 360

/* MEMORY (§4.4). */
enum vk_memory { VK_M_ALLOC = 0 };
#define VK_MEMFLAG_HOST_ACCESS (1u << 6)
struct vk_memory_req {
    struct vk_ccmd_req hdr;
    union {
        struct {
            uint32_t PreferredNode;
            uint32_t MemFlags;
            uint64_t SizeInBytes;
            uint64_t MemoryAddress;
            uint64_t Alignment;
        } alloc;
        uint8_t raw[280];
    } u;
    uint64_t blob_id;
    uint32_t type;
    uint32_t res_id;
};
VK_SIZE(struct vk_memory_req, 312);
VK_CHECK(struct vk_memory_req, u.alloc.SizeInBytes, 24);
VK_CHECK(struct vk_memory_req, u.alloc.Alignment, 40);
VK_CHECK(struct vk_memory_req, blob_id, 296);
VK_CHECK(struct vk_memory_req, type, 304);
VK_CHECK(struct vk_memory_req, res_id, 308);

struct vk_memory_rsp {
    struct vk_ccmd_rsp hdr;
    uint64_t memory_handle;
    uint8_t reserved[304];
};
VK_SIZE(struct vk_memory_rsp, 320);

/* QUEUE (§4.5). */
enum vk_queue { VK_QU_CREATE = 0 };
#define VK_QUEUE_TYPE_COMPUTE_AQL 21
struct vk_queue_req {
    struct vk_ccmd_req hdr;
    union {
        struct {
            uint32_t NodeId;
            uint32_t Type;
            uint32_t QueuePercentage;
            uint32_t pad;
            int64_t Priority; /* HSA_QUEUE_PRIORITY is an 8-byte enum (§0.1) */
            uint32_t pad1;
            uint32_t SdmaEngineId;
            uint64_t QueueAddress;
            uint64_t QueueSizeInBytes;
            uint64_t Event;
            uint64_t QueueResource;
            uint64_t Queue_write_ptr_aql;
            uint64_t Queue_read_ptr_aql;
        } create;
        uint8_t raw[80];
    } u;
    uint64_t blob_id;
    uint64_t rw_ptr_blob_id;
    uint64_t doorbell_blob_id;
    uint32_t res_id;
    uint32_t type;
    uint32_t queue_mem_res_id;
    uint32_t pad;
};
VK_SIZE(struct vk_queue_req, 136);
VK_CHECK(struct vk_queue_req, u.create.Priority, 32);
VK_CHECK(struct vk_queue_req, u.create.SdmaEngineId, 44);
VK_CHECK(struct vk_queue_req, u.create.Queue_read_ptr_aql, 88);
VK_CHECK(struct vk_queue_req, blob_id, 96);
VK_CHECK(struct vk_queue_req, doorbell_blob_id, 112);
VK_CHECK(struct vk_queue_req, res_id, 120);
VK_CHECK(struct vk_queue_req, type, 124);
VK_CHECK(struct vk_queue_req, queue_mem_res_id, 128);

struct vk_queue_rsp {
    struct vk_ccmd_rsp hdr;
    struct {
        uint64_t QueueId;
        uint64_t QueueDoorBell;
        uint64_t QueueWptrValue;
        uint64_t QueueRptrValue;
        uint64_t ErrorReason;
        uint64_t host_doorbell;
        uint64_t host_doorbell_offset;
        uint64_t host_write_offset;
        uint64_t host_read_offset;
        uint64_t host_rw_handle;
        uint64_t queue_handle;
    } vqueue_res;
    uint8_t reserved[72];
};
VK_SIZE(struct vk_queue_rsp, 168);
VK_CHECK(struct vk_queue_rsp, vqueue_res.host_doorbell, 48);
VK_CHECK(struct vk_queue_rsp, vqueue_res.queue_handle, 88);

#endif
