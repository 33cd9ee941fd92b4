-- The capability edit_images is gone: the image catalogue, its registries
-- and its policy need configure_mltk_container, as the seed's container
-- settings do, and nothing ever checked edit_images. Roles that listed it
-- lose it, so that an update of such a role is not refused for naming an
-- unknown capability.

UPDATE roles
SET capabilities = (
    SELECT json_group_array(value) FROM json_each(roles.capabilities) WHERE value <> 'edit_images'
)
WHERE EXISTS (SELECT 1 FROM json_each(roles.capabilities) WHERE value = 'edit_images');
