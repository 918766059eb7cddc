"""The OpenPose-18 body: joint names and order, the limbs DWPose draws, and the tree they form.

Every pose in dancegen is ``[18, 2]`` float (x right, y down) in canvas pixels, joints in :data:`JOINTS` order.
"""

from __future__ import annotations

JOINTS = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee",
          "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar")
J = {name: i for i, name in enumerate(JOINTS)}

# The 17 OpenPose limbs (joint index pairs) that DWPose draws, in drawing / colour order. They form a tree rooted at
# the neck, parent joint first in every pair, parents listed before their children.
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))

ANKLES = (J["RAnkle"], J["LAnkle"])

# tree used to fill missing joints: child -> parent (the neck is the root)
PARENT = {J["Nose"]: J["Neck"], J["RShoulder"]: J["Neck"], J["RElbow"]: J["RShoulder"], J["RWrist"]: J["RElbow"],
         J["LShoulder"]: J["Neck"], J["LElbow"]: J["LShoulder"], J["LWrist"]: J["LElbow"], J["RHip"]: J["Neck"],
         J["RKnee"]: J["RHip"], J["RAnkle"]: J["RKnee"], J["LHip"]: J["Neck"], J["LKnee"]: J["LHip"],
         J["LAnkle"]: J["LKnee"], J["REye"]: J["Nose"], J["LEye"]: J["Nose"], J["REar"]: J["REye"],
         J["LEar"]: J["LEye"]}
HEAD_JOINTS = (J["Nose"], J["REye"], J["LEye"], J["REar"], J["LEar"])
