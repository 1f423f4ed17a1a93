"""Face geometry for the face2d renderer and the lip-sync scorer: landmarks,
visemes, mouth and eye warps, motion. Heavy imports (cv2, mediapipe) live inside
the functions that need them."""
