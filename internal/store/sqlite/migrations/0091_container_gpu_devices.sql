-- The GPU devices (ids of containers.gpu.docker_devices) a container holds
-- for itself: a JSON list, '[]' when it asks for none or its runtime
-- assigns them (Kubernetes' device plugin).

ALTER TABLE containers ADD COLUMN gpu_devices TEXT NOT NULL DEFAULT '[]';
