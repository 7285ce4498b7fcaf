namespace VhsaKmt.Transport.VirtioGpu;

// Numbers from linux/virtio_gpu.h (linux-libc-dev 6.1) and PROTOCOL.md §2; the layout tests compile the
// real header and compare every value below with it.

/// <summary>C <c>enum virtio_gpu_ctrl_type</c>: command (0x01xx 2D, 0x02xx 3D, 0x03xx cursor) and response codes.</summary>
public enum VirtioGpuCtrlType : uint
{
    VIRTIO_GPU_UNDEFINED = 0,

    VIRTIO_GPU_CMD_GET_DISPLAY_INFO = 0x0100,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_2D = 0x0101,
    VIRTIO_GPU_CMD_RESOURCE_UNREF = 0x0102,
    VIRTIO_GPU_CMD_SET_SCANOUT = 0x0103,
    VIRTIO_GPU_CMD_RESOURCE_FLUSH = 0x0104,
    VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D = 0x0105,
    VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING = 0x0106,
    VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING = 0x0107,
    VIRTIO_GPU_CMD_GET_CAPSET_INFO = 0x0108,
    VIRTIO_GPU_CMD_GET_CAPSET = 0x0109,
    VIRTIO_GPU_CMD_GET_EDID = 0x010a,
    VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID = 0x010b,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB = 0x010c,
    VIRTIO_GPU_CMD_SET_SCANOUT_BLOB = 0x010d,

    VIRTIO_GPU_CMD_CTX_CREATE = 0x0200,
    VIRTIO_GPU_CMD_CTX_DESTROY = 0x0201,
    VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE = 0x0202,
    VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE = 0x0203,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_3D = 0x0204,
    VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D = 0x0205,
    VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D = 0x0206,
    VIRTIO_GPU_CMD_SUBMIT_3D = 0x0207,
    VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB = 0x0208,
    VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB = 0x0209,

    VIRTIO_GPU_CMD_UPDATE_CURSOR = 0x0300,
    VIRTIO_GPU_CMD_MOVE_CURSOR = 0x0301,

    VIRTIO_GPU_RESP_OK_NODATA = 0x1100,
    VIRTIO_GPU_RESP_OK_DISPLAY_INFO = 0x1101,
    VIRTIO_GPU_RESP_OK_CAPSET_INFO = 0x1102,
    VIRTIO_GPU_RESP_OK_CAPSET = 0x1103,
    VIRTIO_GPU_RESP_OK_EDID = 0x1104,
    VIRTIO_GPU_RESP_OK_RESOURCE_UUID = 0x1105,
    VIRTIO_GPU_RESP_OK_MAP_INFO = 0x1106,

    VIRTIO_GPU_RESP_ERR_UNSPEC = 0x1200,
    VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY = 0x1201,
    VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID = 0x1202,
    VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID = 0x1203,
    VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID = 0x1204,
    VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER = 0x1205,
}

/// <summary>Constants of the virtio-gpu device (feature bits, header flags, blob and capset values).</summary>
public static class VirtioGpuConst
{
    // Device feature bit numbers (not masks).
    public const int VIRTIO_GPU_F_VIRGL = 0;
    public const int VIRTIO_GPU_F_EDID = 1;
    public const int VIRTIO_GPU_F_RESOURCE_UUID = 2;
    public const int VIRTIO_GPU_F_RESOURCE_BLOB = 3;
    public const int VIRTIO_GPU_F_CONTEXT_INIT = 4;

    // virtio_gpu_ctrl_hdr.flags
    public const uint VIRTIO_GPU_FLAG_FENCE = 1u << 0;
    public const uint VIRTIO_GPU_FLAG_INFO_RING_IDX = 1u << 1;

    // virtio_gpu_resource_create_blob.blob_mem (0 is invalid)
    public const uint VIRTIO_GPU_BLOB_MEM_GUEST = 0x0001;
    public const uint VIRTIO_GPU_BLOB_MEM_HOST3D = 0x0002;
    public const uint VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST = 0x0003;

    // virtio_gpu_resource_create_blob.blob_flags; the upstream header defines only the first three.
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE = 0x0001;
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE = 0x0002;
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE = 0x0004;
    /// <summary>AMD guest-kernel patch (not upstream): blob backed by pinned guest user pages.</summary>
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_USERPTR = 0x0008;
    /// <summary>AMD guest-kernel patch (not upstream): userptr blob is read-only.</summary>
    public const uint VIRTIO_GPU_BLOB_FLAG_USERPTR_RDONLY = 0x0010;
    /// <summary>G-new guest uapi (VIRTGPU_BLOB_FLAG_USE_SVM); the backend rejects it (PROTOCOL.md §2.1).</summary>
    public const uint VIRTIO_GPU_BLOB_FLAG_USE_SVM = 0x0020;

    // virtio_gpu_resp_map_info.map_info
    public const uint VIRTIO_GPU_MAP_CACHE_MASK = 0x0f;
    public const uint VIRTIO_GPU_MAP_CACHE_NONE = 0x00;
    public const uint VIRTIO_GPU_MAP_CACHE_CACHED = 0x01;
    public const uint VIRTIO_GPU_MAP_CACHE_UNCACHED = 0x02;
    public const uint VIRTIO_GPU_MAP_CACHE_WC = 0x03;

    // enum virtio_gpu_shm_id
    public const byte VIRTIO_GPU_SHM_ID_UNDEFINED = 0;
    public const byte VIRTIO_GPU_SHM_ID_HOST_VISIBLE = 1;

    // Capsets. 8 is the hsakmt/ROCm native context (not in the upstream header).
    public const uint VIRTIO_GPU_CAPSET_VIRGL = 1;
    public const uint VIRTIO_GPU_CAPSET_VIRGL2 = 2;
    public const uint VIRTIO_GPU_CAPSET_HSAKMT = 8;

    /// <summary>virtio_gpu_ctx_create.context_init: bits 0-7 carry the capset id.</summary>
    public const uint VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK = 0x000000ff;

    // virtio_gpu_config.events_read / events_clear
    public const uint VIRTIO_GPU_EVENT_DISPLAY = 1u << 0;

    public const int VIRTIO_GPU_MAX_SCANOUTS = 16;
    public const uint VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP = 1u << 0;

    /// <summary>Capset payload context_type the G-new guest requires (VIRTGPU_HSAKMT_CONTEXT_AMDGPU).</summary>
    public const uint VIRTGPU_HSAKMT_CONTEXT_AMDGPU = 1;
}
