// The test-only media driver: see test_media_driver.h.
#include "tests/support/test_media_driver.h"

#include <cerrno>
#include <cstdio>

#include "core/kernel/slab.h"

namespace mcf::testing {
namespace {

std::atomic<int> g_released{0};

int proc_link_validate(media_link* link) {
  test_media_drv* drv = container_of(link->sink->entity, test_media_drv, proc);
  return drv->validate_result.load();
}

const media_entity_operations proc_ops = {.link_validate = proc_link_validate};

// R9: the single gatekeeper. Runs at the last media-device reference, which
// comes after every entity's and interface's release.
void test_media_release(media_device* mdev) {
  test_media_drv* drv = container_of(mdev, test_media_drv, mdev);
  kfree(drv);
  g_released.fetch_add(1);
}

const media_device_ops test_media_ops = {.release = test_media_release};

void init_entity(media_entity* e, const char* name, uint32_t function, uint16_t num_pads,
                 media_pad* pads) {
  e->name = name;
  e->function = function;
  media_entity_pads_init(e, num_pads, pads);  // the driver's reference (R3)
}

int test_media_probe(platform_device* pdev) {
  test_media_drv* drv = kzalloc<test_media_drv>();
  if (drv == nullptr) return -ENOMEM;
  drv->pdev = pdev;
  media_device* mdev = &drv->mdev;
  mdev->dev = &pdev->dev;
  mdev->ops = &test_media_ops;
  std::snprintf(mdev->model, sizeof(mdev->model), "MCF TEST MDEV");
  std::snprintf(mdev->bus_info, sizeof(mdev->bus_info), "platform:%s", kTestMediaDriverName);
  media_device_init(mdev);

  drv->source_pads[0].flags = MEDIA_PAD_FL_SOURCE;
  drv->proc_pads[0].flags = MEDIA_PAD_FL_SINK;
  drv->proc_pads[1].flags = MEDIA_PAD_FL_SOURCE;
  drv->sink_pads[0].flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
  init_entity(&drv->source, "Source", MEDIA_ENT_F_CAM_SENSOR, 1, drv->source_pads);
  init_entity(&drv->proc, "Proc", MEDIA_ENT_F_PROC_VIDEO_SCALER, 2, drv->proc_pads);
  drv->proc.ops = &proc_ops;
  drv->proc.obj_type = MEDIA_ENTITY_TYPE_V4L2_SUBDEV;
  init_entity(&drv->sink, "Sink", MEDIA_ENT_F_IO_V4L, 1, drv->sink_pads);
  drv->sink.obj_type = MEDIA_ENTITY_TYPE_VIDEO_DEVICE;
  init_entity(&drv->lens, "Lens", MEDIA_ENT_F_LENS, 0, nullptr);

  int ret = 0;
  media_entity* entities[] = {&drv->source, &drv->proc, &drv->sink, &drv->lens};
  int registered = 0;
  for (media_entity* e : entities) {
    ret = media_device_register_entity(mdev, e);
    if (ret != 0) goto err_entities;
    registered++;
  }
  ret = media_create_pad_link(&drv->source, 0, &drv->proc, 0,
                              MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE);
  if (ret == 0) ret = media_create_pad_link(&drv->proc, 1, &drv->sink, 0, 0);
  if (ret == 0 && media_create_ancillary_link(&drv->source, &drv->lens) == nullptr) ret = -ENOMEM;
  if (ret != 0) goto err_entities;
  drv->intf = media_devnode_create(mdev, MEDIA_INTF_T_V4L_VIDEO, 0, 81, 0);
  if (drv->intf == nullptr) {
    ret = -ENOMEM;
    goto err_entities;
  }
  if (media_create_intf_link(&drv->sink, &drv->intf->intf, MEDIA_LNK_FL_ENABLED) == nullptr) {
    ret = -ENOMEM;
    goto err_intf;
  }
  ret = media_device_register(mdev);
  if (ret != 0) goto err_intf;
  platform_set_drvdata(pdev, drv);
  return 0;

  // Unwind in reverse; the memory goes with the last media-device reference.
err_intf:
  media_devnode_remove(drv->intf);
err_entities:
  for (int i = registered - 1; i >= 0; --i) media_device_unregister_entity(entities[i]);
  for (media_entity* e : entities) media_entity_put(e);
  media_device_put(mdev);
  return ret;
}

// R8: unregister, drop our references; memory stays while anyone uses it.
void test_media_remove(platform_device* pdev) {
  test_media_drv* drv = test_media_drvdata(pdev);
  media_device_unregister(&drv->mdev);
  media_devnode_remove(drv->intf);
  media_entity_put(&drv->source);
  media_entity_put(&drv->proc);
  media_entity_put(&drv->sink);
  media_entity_put(&drv->lens);
  media_device_put(&drv->mdev);
}

platform_driver test_media_platform_driver = [] {
  platform_driver d;
  d.probe = test_media_probe;
  d.remove = test_media_remove;
  d.driver.name = kTestMediaDriverName;
  return d;
}();

}  // namespace

int test_media_driver_register() { return platform_driver_register(&test_media_platform_driver); }
void test_media_driver_unregister() { platform_driver_unregister(&test_media_platform_driver); }

platform_device* test_media_device_add(int id) {
  return platform_device_register_simple(kTestMediaDriverName, id, 1, 16);
}

test_media_drv* test_media_drvdata(platform_device* pdev) {
  return static_cast<test_media_drv*>(dev_get_drvdata(&pdev->dev));
}

int test_media_released_count() { return g_released.load(); }

}  // namespace mcf::testing
