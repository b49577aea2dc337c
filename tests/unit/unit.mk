# unit.mk: unit tests for the boot slice (issue 2): guest memory, buses, the
# command line, the bzImage loader, the AML encoder and ACPI tables, the
# 8250. Each binary links the real objects it tests; stubs_vm.o and
# stubs_console.o stand in for vm.c and console.c (they need KVM and a loop).
UNIT_STUB_VM = obj/tests/unit/stubs_vm.o
UNIT_STUB_CON = obj/tests/unit/stubs_console.o

UNIT_BIN += obj/tests/test_gmem
obj/tests/test_gmem: obj/tests/unit/test_gmem.o obj/src/gmem.o \
	obj/src/arch/x86/machine.o $(UNIT_COMMON)

UNIT_BIN += obj/tests/test_bus
obj/tests/test_bus: obj/tests/unit/test_bus.o obj/src/bus.o $(UNIT_COMMON)

# The command line reads the device table (every device, every backend),
# which brings the virtio core; kvmdev.o holds the KVM device's path and
# hints (src/vm.c is not linked: it needs KVM).
UNIT_BIN += obj/tests/test_cli
obj/tests/test_cli: obj/tests/unit/test_cli.o obj/src/cli.o $(DEVICE_OBJ) $(NETBACKEND_OBJ) \
	obj/src/kvmdev.o obj/src/disk.o obj/src/disk_io.o obj/src/disk_cow.o obj/src/disk_tmp.o obj/src/virtio_pci.o obj/src/kick.o obj/src/virtq.o \
	obj/src/pci.o obj/src/msix.o obj/src/irq.o obj/src/gmem.o obj/src/bus.o \
	obj/src/arch/x86/machine.o obj/src/loop.o $(UNIT_STUB_CON) $(UNIT_COMMON)

UNIT_BIN += obj/tests/test_boot
obj/tests/test_boot: obj/tests/unit/test_boot.o obj/src/arch/x86/boot.o obj/src/bootfile.o obj/src/arch/x86/pvh.o \
	obj/src/arch/x86/acpi.o obj/src/arch/x86/dsdt.o obj/src/arch/x86/aml.o obj/src/arch/x86/cpu.o \
	obj/src/arch/x86/machine.o obj/src/pci.o obj/src/irq.o obj/src/gmem.o \
	obj/src/bus.o obj/src/kcache.o obj/src/kcache_evict.o obj/src/kcache_memo.o obj/src/arch/x86/kimage.o \
	$(UNIT_COMMON)

# The ELF/PVH loader: its checks and writers alone, and through boot.c's hooks.
UNIT_BIN += obj/tests/test_pvh
obj/tests/test_pvh: obj/tests/unit/test_pvh.o obj/src/arch/x86/pvh.o obj/src/arch/x86/boot.o obj/src/bootfile.o \
	obj/src/arch/x86/acpi.o obj/src/arch/x86/dsdt.o obj/src/arch/x86/aml.o obj/src/arch/x86/cpu.o \
	obj/src/arch/x86/machine.o obj/src/pci.o obj/src/irq.o obj/src/gmem.o \
	obj/src/bus.o obj/src/kcache.o obj/src/kcache_evict.o obj/src/kcache_memo.o obj/src/arch/x86/kimage.o \
	$(UNIT_COMMON)

UNIT_BIN += obj/tests/test_aml
obj/tests/test_aml: obj/tests/unit/test_aml.o obj/src/arch/x86/aml.o \
	obj/src/arch/x86/acpi.o obj/src/arch/x86/dsdt.o obj/src/arch/x86/machine.o \
	obj/src/arch/x86/pci_conf1.o obj/src/pci.o obj/src/irq.o obj/src/loop.o \
	obj/src/gmem.o obj/src/bus.o obj/devices/serial.o obj/src/arch/x86/pm.o \
	obj/src/arch/x86/pvpanic.o $(UNIT_STUB_CON) $(UNIT_COMMON)

UNIT_BIN += obj/tests/test_serial
obj/tests/test_serial: obj/tests/unit/test_serial.o obj/devices/serial.o obj/src/bus.o \
	$(UNIT_STUB_VM) $(UNIT_STUB_CON) $(UNIT_COMMON)

# test_irq: the real routing code against a recording KVM (its own ioctl()).
UNIT_BIN += obj/tests/test_irq
obj/tests/test_irq: obj/tests/unit/test_irq.o obj/src/irq.o obj/src/arch/x86/machine.o \
	$(UNIT_COMMON)

# test_log: guest-fault logging: episodes and the rate limit.
UNIT_BIN += obj/tests/test_log
obj/tests/test_log: obj/tests/unit/test_log.o $(UNIT_COMMON)

# --result's JSON writer, read back by jq.
UNIT_BIN += obj/tests/test_runner_result
obj/tests/test_runner_result: obj/tests/unit/test_runner_result.o obj/src/runner_result.o \
	$(UNIT_COMMON)

# test_sandbox: the seccomp allow-lists against docs/SECURITY.md, and the
# compiled filters against the kernel in forked children.
UNIT_BIN += obj/tests/test_sandbox
obj/tests/test_sandbox: obj/tests/unit/test_sandbox.o obj/src/sandbox.o obj/src/sandbox_rules.o \
	obj/src/landlock.o $(UNIT_COMMON)

# The kernel cache: kimage (bzImage payloads, six formats made here by
# their own libraries through kfake.c) and kcache (the on-disk cache).
UNIT_BIN += obj/tests/test_kimage
obj/tests/test_kimage: obj/tests/unit/test_kimage.o obj/tests/unit/kfake.o obj/src/arch/x86/kimage.o \
	$(UNIT_COMMON)

UNIT_BIN += obj/tests/test_kcache
obj/tests/test_kcache: obj/tests/unit/test_kcache.o obj/tests/unit/kfake.o \
	obj/tests/unit/tmptree.o obj/src/kcache.o obj/src/kcache_evict.o obj/src/kcache_memo.o obj/src/arch/x86/kimage.o \
	$(UNIT_COMMON)
