"""Issue 18: the detection building blocks against hand-computed values."""

from __future__ import annotations

import math

import torch

from rlkit.agents.detection_ops import (
    anchor_shapes,
    batched_nms,
    box_iou,
    decode_boxes,
    encode_boxes,
    make_anchors,
    nms,
    roi_align,
    roi_pool,
    spp,
)


def test_anchor_shapes_are_three_scales_by_three_ratios_of_the_scale_squared_area() -> None:
    wh = anchor_shapes((32.0, 64.0, 128.0), (0.5, 1.0, 2.0))
    assert wh.shape == (9, 2)
    assert torch.allclose(wh[:, 0] * wh[:, 1], torch.tensor([32.0**2] * 3 + [64.0**2] * 3 + [128.0**2] * 3))
    assert torch.allclose(wh[:, 1] / wh[:, 0], torch.tensor([0.5, 1.0, 2.0] * 3))
    assert torch.allclose(wh[1], torch.tensor([32.0, 32.0]))
    assert torch.allclose(wh[0], torch.tensor([32 * math.sqrt(2), 32 / math.sqrt(2)]))


def test_anchors_sit_on_cell_centres_row_major_then_anchor() -> None:
    a = make_anchors(1, 2, stride=16, scales=(32.0,), ratios=(1.0,))
    assert torch.allclose(a, torch.tensor([[-8.0, -8, 24, 24], [8, -8, 40, 24]]))
    full = make_anchors(3, 5, stride=8)
    assert full.shape == (3 * 5 * 9, 4)
    centres = (full[:, :2] + full[:, 2:]) / 2
    assert torch.allclose(centres[9 * 5 : 9 * 6], torch.tensor([4.0, 12.0]))  # cell (1, 0): rows 45..53
    assert torch.allclose(centres[9 * 6], torch.tensor([12.0, 12.0]))  # cell (1, 1)


def test_iou_of_known_boxes() -> None:
    a = torch.tensor([[0.0, 0, 2, 2]])
    b = torch.tensor([[1.0, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6], [0, 0, 1, 2]])
    assert torch.allclose(box_iou(a, b), torch.tensor([[1 / 7, 1.0, 0.0, 0.5]]))


def test_encode_gives_the_faster_rcnn_offsets_and_decode_inverts_it() -> None:
    anchor = torch.tensor([[0.0, 0, 10, 10]])
    box = torch.tensor([[0.0, 0, 10, 20]])  # centre (5, 10) vs (5, 5); h 20 vs 10
    assert torch.allclose(encode_boxes(box, anchor), torch.tensor([[0.0, 0.5, 0.0, math.log(2)]]))
    g = torch.Generator().manual_seed(0)
    anchors = make_anchors(4, 4, 16)
    xy = torch.rand(len(anchors), 2, generator=g) * 50
    boxes = torch.cat([xy, xy + 1 + torch.rand(len(anchors), 2, generator=g) * 60], dim=1)
    assert torch.allclose(decode_boxes(encode_boxes(boxes, anchors), anchors), boxes, atol=1e-4)


def test_nms_keeps_the_best_of_each_overlapping_group() -> None:
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    # box 3 (0.95) first; box 0 overlaps it by 0.9, box 1 by 72/118 = 0.61: both go; box 2 stays
    assert nms(boxes, scores, 0.5).tolist() == [3, 2]
    # at 0.65 box 1 survives box 3 (0.61) and box 0 is gone before it can suppress box 1 (0.68)
    assert nms(boxes, scores, 0.65).tolist() == [3, 1, 2]
    # different classes never suppress each other
    assert sorted(batched_nms(boxes, scores, torch.tensor([0, 1, 0, 0]), 0.5).tolist()) == [1, 2, 3]


def test_roi_pool_of_a_known_map() -> None:
    fmap = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = roi_pool(fmap, torch.tensor([[0.0, 0, 0, 3, 3]]), size=2, scale=1.0)
    assert out.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    # pixels 16..48 at stride 16 -> cells 1..3 (rounded), one bin: max of rows/cols 1..3 = 15
    one = roi_pool(fmap, torch.tensor([[0.0, 16, 16, 48, 48]]), size=1, scale=1 / 16)
    assert one.item() == 15.0


def test_roi_align_samples_a_linear_map_exactly() -> None:
    fmap = torch.arange(4.0).repeat(4, 1).reshape(1, 1, 4, 4)  # value = column index
    out = roi_align(fmap, torch.tensor([[0.0, 0, 0, 4, 4]]), size=2, scale=1.0)
    # bin j covers pixels [2j, 2j+2]: samples at pixel 2j+0.5, 2j+1.5 = cells 2j, 2j+1, mean 2j + 0.5
    assert torch.allclose(out, torch.tensor([[[[0.5, 2.5], [0.5, 2.5]]]]))
    frac = roi_align(fmap, torch.tensor([[0.0, 1, 0, 3, 4]]), size=1, scale=1.0)
    assert torch.allclose(frac, torch.tensor(1.5))  # samples at pixels 1.5, 2.5 = cells 1, 2


def test_spp_is_21c_whatever_the_input_size() -> None:
    for h, w in ((7, 9), (16, 5)):
        assert spp(torch.randn(2, 3, h, w)).shape == (2, 63)
    fmap = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = spp(fmap)
    assert out[0, :16].tolist() == list(range(16))  # the 4x4 level of a 4x4 map is the map
    assert out[0, 16:20].tolist() == [5.0, 7.0, 13.0, 15.0] and out[0, 20].item() == 15.0
