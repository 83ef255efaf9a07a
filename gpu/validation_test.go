package gpu

import (
	"strings"
	"testing"
	"unicode/utf8"

	vk "github.com/vulkan-go/vulkan"
)

// TestValidationReports proves that the layer's reports reach Messages: a
// deliberately invalid call (a zero-sized buffer) must produce an error.
func TestValidationReports(t *testing.T) {
	m, err := Open(0, Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info := vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        0, // invalid: VUID-VkBufferCreateInfo-size-00912
		Usage:       vk.BufferUsageFlags(bufferUsage),
		SharingMode: vk.SharingModeExclusive,
	}
	var h vk.Buffer
	if vk.CreateBuffer(m.device, &info, nil, &h) == vk.Success && h != vk.NullBuffer {
		vk.DestroyBuffer(m.device, h, nil)
	}
	msgs := m.Messages()
	if len(msgs) == 0 {
		t.Fatal("the validation layer reported nothing for a zero-sized buffer")
	}
	if msgs[0].Severity != "error" || !strings.Contains(msgs[0].Text, "size") {
		t.Errorf("unexpected report: %v", msgs[0])
	}
}

// TestValidationRouting checks that two Managers' reports stay apart,
// although the binding has one process-wide callback.
func TestValidationRouting(t *testing.T) {
	a, err := Open(0, Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(0, Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	info := vk.BufferCreateInfo{SType: vk.StructureTypeBufferCreateInfo, Usage: vk.BufferUsageFlags(bufferUsage)}
	var h vk.Buffer
	if vk.CreateBuffer(b.device, &info, nil, &h) == vk.Success && h != vk.NullBuffer {
		vk.DestroyBuffer(b.device, h, nil)
	}
	if len(a.Messages()) != 0 || len(b.Messages()) == 0 {
		t.Errorf("reports went astray: a has %d, b has %d", len(a.Messages()), len(b.Messages()))
	}
}

// TestValidationLeaks checks that an object left alive at Close is
// reported, so that the tests' zero-message rule also catches leaks.
func TestValidationLeaks(t *testing.T) {
	m, err := Open(0, Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	info := vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}
	var f vk.Fence
	if err := check(vk.CreateFence(m.device, &info, nil, &f), "vkCreateFence"); err != nil {
		t.Fatal(err)
	}
	m.Close()
	found := false
	for _, msg := range m.Messages() {
		found = found || strings.Contains(msg.Text, "VkFence")
	}
	if !found {
		t.Errorf("a leaked fence was not reported: %v", m.Messages())
	}
}

// TestValidationMessagesKept: a stored report stays readable after the
// layer has freed its own copy and made many more (the binding hands the
// callback strings in the layer's memory: they must be copied).
func TestValidationMessagesKept(t *testing.T) {
	// Best-practice reports too: many more, of many lengths.
	t.Setenv("VK_LAYER_ENABLES", "VK_VALIDATION_FEATURE_ENABLE_BEST_PRACTICES_EXT")
	m, err := Open(0, Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bad := func(size vk.DeviceSize, usage vk.BufferUsageFlagBits) {
		info := vk.BufferCreateInfo{SType: vk.StructureTypeBufferCreateInfo, Size: size,
			Usage: vk.BufferUsageFlags(usage), SharingMode: vk.SharingModeExclusive}
		var h vk.Buffer
		if vk.CreateBuffer(m.device, &info, nil, &h) == vk.Success && h != vk.NullBuffer {
			vk.DestroyBuffer(m.device, h, nil)
		}
	}
	bad(0, bufferUsage)
	first := m.Messages()
	if len(first) == 0 {
		t.Fatal("no report")
	}
	want := strings.Clone(first[0].Text)
	for range 200 { // other reports, of other lengths, reuse the layer's memory
		bad(0, 0)
		b, err := m.NewBuffer(4096)
		if err != nil {
			t.Fatal(err)
		}
		b.Free()
	}
	msgs := m.Messages()
	if got := msgs[0].Text; got != want {
		t.Errorf("the first report changed after more calls:\n was %q\n now %q", want, got)
	}
	for i, msg := range msgs {
		if !utf8.ValidString(msg.Text) || !strings.Contains(msg.Text, "Validation") {
			t.Errorf("report %d of %d is unreadable: %q", i, len(msgs), msg.Text)
			break
		}
	}
	t.Logf("%d reports, the last: %s", len(msgs), msgs[len(msgs)-1])
}
